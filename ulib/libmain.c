// Program start-up: ExOS sets up its page-table views, exception handling
// and the heap, runs main(argc, argv) and exits with its return value.

#include "ulib.h"
#include "ulib/exos.h"

int main(int argc, char **argv);

// The program's first C code (from _start): argc and argv as the creator
// left them (spawn and exec put them on the stack, and the kernel gives the
// first program its name and boot arguments; a creator may also pass none);
// how is EXOS_EXEC_MAGIC after exec, whose page-table window stays.
void libmain(int argc, char **argv, unsigned long how)
{
  static char *no_args[2];
  if (argv == NULL) {  // the creator passed none
    no_args[0] = (char *)exos_progname();
    argc = 1;
    argv = no_args;
  }
  long err = 0;
  if (how == EXOS_EXEC_MAGIC)
    vm_adopt(((const struct exec_switch *)EXOS_EXECBUF)->window);
  else
    err = vm_init();
  if (err == 0)
    err = exos_exceptions_init();
  if (err < 0) {
    printf("exos: cannot start (error %ld)\n", err);
    exit(-1);
  }
  heap_init();
  fork_init();
  revoke_init();
  if (how == EXOS_EXEC_MAGIC)
    exec_finish();
  exit(main(argc, argv));
}

// End this program with the given status.
void exit(int status)
{
  fork_record_exit(status);
  sys_env_exit(status);
  for (;;)
    ;  // not reached: the kernel does not return from env_exit
}

// Report a failed assert() with a backtrace, then exit.
void exos_assert_fail(const char *expr, const char *file, int line)
{
  printf("%s: assertion failed: %s at %s:%d\n", exos_progname(), expr, file, line);
  unsigned long pc;
  asm volatile("auipc %0, 0" : "=r"(pc));
  exos_backtrace(pc, 0, (unsigned long)__builtin_frame_address(0));
  exit(-1);
}
