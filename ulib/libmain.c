// Program start-up, the top of ExOS: it brings the layers up in order,
// bottom to top, runs main(argc, argv) and exits with its return value.

#include "ulib.h"
#include "ulib/exos.h"

int main(int argc, char **argv);

// The program's first C code (from _start): argc and argv as the creator
// left them (or none); how is EXOS_EXEC_MAGIC after exec, whose page-table
// window stays; fds, the descriptors spawn or exec handed over (NULL: the
// console). Each layer's start registers its hooks (hooks.c); threads and
// RPC have no start: their fork hooks are registered here.
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
  exos_set_backtrace(exos_backtrace);  // for panic and assert
  heap_init();
  fork_init();
  exos_on_fork_child(thread_fork_child);
  exos_on_fork_child(rpc_forget);
  fs_set_starter(spawn_server);
  fd_init(fds);
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
