// ln: make NEW another name (a hard link) for the file OLD; with -s, make
// NEW a symbolic link naming the path TARGET (which need not exist).

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  // LAB fs: ln -s TARGET NEW: make a symbolic link (symlink in ulib/fsclient.c)
  // HANDOUT: if (exos_args(&argc, &argv, 2, 2, "usage: ln OLD NEW") < 0)
  // HANDOUT:   return 2;
  // HANDOUT: int err = link(argv[1], argv[2]);
  int soft = argc > 1 && strcmp(argv[1], "-s") == 0;
  if (soft) {  // drop "-s", keeping the program's name first
    argv[1] = argv[0];
    argv++;
    argc--;
  }
  if (exos_args(&argc, &argv, 2, 2, "usage: ln [-s] OLD NEW") < 0)
    return 2;
  int err = soft ? symlink(argv[1], argv[2]) : link(argv[1], argv[2]);
  // END LAB fs
  if (err < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", argv[2], argv[1], exos_strerror(err));
    return 1;
  }
  return 0;
}
