// ln: make NEW another name (a hard link) for the file OLD.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 2, 2, "usage: ln OLD NEW") < 0)
    return 2;
  int err = link(argv[1], argv[2]);
  if (err < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", argv[2], argv[1], exos_strerror(err));
    return 1;
  }
  return 0;
}
