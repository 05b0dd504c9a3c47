// rm: remove each file named (and each empty directory: as rmdir does).

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 1, -1, "usage: rm FILE...") < 0)
    return 2;
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int err = unlink(argv[i]);
    if (err < 0) {
      fprintf(2, "rm: %s: %s\n", argv[i], exos_strerror(err));
      status = 1;
    }
  }
  return status;
}
