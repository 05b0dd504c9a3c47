// ln: make NEW another name (a hard link) for the file OLD.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(2, "usage: ln OLD NEW\n");
    return 2;
  }
  int err = link(argv[1], argv[2]);
  if (err < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", argv[2], argv[1], exos_strerror(err));
    return 1;
  }
  return 0;
}
