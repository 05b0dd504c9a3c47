// mv: rename OLD to NEW, or move each FILE into the directory DIR. Each
// move is one atomic step of the file system.

#include "ulib/ulib.h"

// The last component of path.
static const char *last(const char *path)
{
  const char *end = path + strlen(path);
  while (end > path && end[-1] == '/')
    end--;
  const char *p = end;
  while (p > path && p[-1] != '/')
    p--;
  return p;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 2, -1, "usage: mv OLD NEW | mv FILE... DIR") < 0)
    return 2;
  struct stat st;
  int status = 0;
  const char *dest = argv[argc - 1];
  int into = stat(dest, &st) == 0 && st.type == T_DIR;
  if (argc > 3 && !into) {
    fprintf(2, "mv: %s: %s\n", dest, exos_strerror(-E_NOTDIR));
    return 1;
  }
  for (int i = 1; i < argc - 1; i++) {
    char to[FS_MAXPATH];
    if (into)
      snprintf(to, sizeof(to), "%s/%s", dest, last(argv[i]));
    else
      strlcpy(to, dest, sizeof(to));
    int err = rename(argv[i], to);
    if (err < 0) {
      fprintf(2, "mv: %s -> %s: %s\n", argv[i], to, exos_strerror(err));
      status = 1;
    }
  }
  return status;
}
