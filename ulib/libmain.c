// Program start-up: ExOS sets up its page-table views, exception handling
// and the heap, runs main() and exits with its return value.

#include "ulib.h"

int main(int argc, char **argv);

void libmain(void)
{
  long err = vm_init();
  if (err == 0)
    err = exos_exceptions_init();
  if (err < 0) {
    printf("exos: cannot start (error %ld)\n", err);
    exit(-1);
  }
  heap_init();
  fork_init();
  revoke_init();
  exit(main(0, NULL));
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
