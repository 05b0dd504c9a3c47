// Program start-up: ExOS sets up its page-table views, exception handling
// and the heap, runs main(argc, argv) and exits with its return value.

#include "ulib.h"
#include "ulib/exos.h"

int main(int argc, char **argv);

// The program's first C code (from _start): argc and argv as the creator
// left them (spawn and exec put them on the stack, and the kernel gives the
// first program its name and boot arguments; a creator may also pass none);
// how is EXOS_EXEC_MAGIC after exec, whose page-table window stays; fds,
// the descriptors spawn or exec handed over (NULL: the console).
void libmain(int argc, char **argv, unsigned long how, const struct fd_handoff *fds)
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
  fd_init(fds);
  fork_init();
  revoke_init();
  if (how == EXOS_EXEC_MAGIC)
    exec_finish();
  exit(main(argc, argv));
}

// End this program with the given status.
void exit(int status)
{
  fd_close_all();
  fork_record_exit(status);
  sys_env_exit(status);
  for (;;)
    ;  // not reached: the kernel does not return from env_exit
}

// Print where the program is (a backtrace from the caller of the caller).
static void backtrace_here(void)
{
  unsigned long *fp = __builtin_frame_address(0);
  exos_backtrace(fp[-1] - 4, 0, fp[-2]);
}

// Report a failed assert() with a backtrace, then exit.
void exos_assert_fail(const char *expr, const char *file, int line)
{
  printf("%s: assertion failed: %s at %s:%d\n", exos_progname(), expr, file, line);
  backtrace_here();
  exit(-1);
}

// End the program with a message (printf's format) and a backtrace.
void panic(const char *fmt, ...)
{
  va_list ap;
  printf("%s: panic: ", exos_progname());
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  backtrace_here();
  exit(-1);
}
