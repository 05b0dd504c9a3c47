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

// Check the arguments of a program that takes no options (cat, rm, ...)
// and from min to max operands (max < 0: no limit). A first argument "--"
// is dropped from *argc, *argv: the rest are operands however they start;
// otherwise an argument starting with '-' (but "-" alone) is an unknown
// option. Returns 0, or prints what is wrong and usage to descriptor 2 and
// returns -1 (the program then ends with status 2).
int exos_args(int *argc, char ***argv, int min, int max, const char *usage)
{
  char **v = *argv;
  int n = *argc - 1;
  if (n > 0 && strcmp(v[1], "--") == 0) {
    v[1] = v[0];
    (*argv)++;
    (*argc)--;
    n--;
  } else {
    for (int i = 1; i <= n; i++)
      if (v[i][0] == '-' && v[i][1] != 0) {
        fprintf(2, "%s: unknown option %s\n%s\n", v[0], v[i], usage);
        return -1;
      }
  }
  if (n < min || (max >= 0 && n > max)) {
    fprintf(2, "%s\n", usage);
    return -1;
  }
  return 0;
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
