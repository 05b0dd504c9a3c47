// mkdir: make each directory named.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 1, -1, "usage: mkdir DIR...") < 0)
    return 2;
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int err = mkdir(argv[i]);
    if (err < 0) {
      fprintf(2, "mkdir: %s: %s\n", argv[i], exos_strerror(err));
      status = 1;
    }
  }
  return status;
}
