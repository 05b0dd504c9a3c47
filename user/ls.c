// ls: list directories (or describe files): name, type, inode, size, and
// for a symbolic link the path it names.

#include "ulib/ulib.h"

static const char *type_name(int type)
{
  return type == T_DIR      ? "dir"
         : type == T_FILE    ? "file"
         : type == T_DEVICE  ? "dev"
         : type == T_SYMLINK ? "link"
                             : "?";
}

// Print one line about name, whose path is path (a symbolic link itself,
// not what it names).
static void describe(const char *path, const char *name)
{
  struct stat st;
  char target[FS_MAXPATH];
  long n = 0;
  // LAB fs: describe a symbolic link itself (lstat), with the path it names (readlink) in target
  // HANDOUT: long err = stat(path, &st);
  long err = lstat(path, &st);
  if (err == 0 && st.type == T_SYMLINK && (n = readlink(path, target, sizeof(target) - 1)) < 0)
    err = n;
  // END LAB fs
  if (err < 0) {
    fprintf(2, "ls: %s: %s\n", path, exos_strerror(err));
    return;
  }
  target[n] = 0;
  printf("%-14s %-4s %4u %8lu%s%s\n", name, type_name(st.type), st.ino, st.size, n ? " -> " : "",
         target);
}

// List path. Returns 0 or 1 on an error.
static int list(const char *path)
{
  struct stat st;
  int fd = open(path, O_RDONLY);
  if (fd < 0 || fstat(fd, &st) < 0) {
    fprintf(2, "ls: %s: %s\n", path, exos_strerror(fd < 0 ? fd : -E_BADF));
    return 1;
  }
  if (st.type != T_DIR) {
    close(fd);
    describe(path, path);
    return 0;
  }
  struct dirent de;
  char name[DIRSIZ + 1], full[128];
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    snprintf(full, sizeof(full), "%s/%s", path, name);
    describe(full, name);
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, -1, "usage: ls [PATH...]") < 0)
    return 2;
  if (argc < 2)
    return list(".");
  int status = 0;
  for (int i = 1; i < argc; i++)
    status |= list(argv[i]);
  return status;
}
