// System-call dispatch. Numbers and the calling convention are in abi.h.
// Every argument is untrusted: pointers are checked by the copy helpers and
// lengths are bounded before use.

#include "defs.h"
#include "abi.h"
#include "env.h"

// Print len bytes at user address va on the console.
static long sys_cputs(struct env *e, uint64 va, uint64 len)
{
  char buf[128];
  while (len > 0) {
    uint64 n = len < sizeof(buf) ? len : sizeof(buf);
    if (copy_from_user(e, buf, va, n) < 0)
      return -E_FAULT;
    console_write(buf, n);
    va += n;
    len -= n;
  }
  return 0;
}

// Return the next console input byte, or -E_AGAIN if none is waiting.
static long sys_cgetc(void)
{
  int c = console_getc();
  return c < 0 ? -E_AGAIN : c;
}

// Carry out the system call in tf->a7 for environment e and return its
// result (to be placed in a0). Does not return if the environment exits.
long syscall(struct env *e, struct trapframe *tf)
{
  switch (tf->a7) {
  case SYS_cputs:
    return sys_cputs(e, tf->a0, tf->a1);
  case SYS_cgetc:
    return sys_cgetc();
  case SYS_getenvid:
    return e->id;
  case SYS_env_exit:
    env_destroy(e, (int)tf->a0);
    schedule();
  default:
    return -E_NOSYS;
  }
}
