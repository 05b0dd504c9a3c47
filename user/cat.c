// cat: copy each file named (or the standard input) to the standard output.

#include "ulib/ulib.h"

// Copy descriptor fd to the standard output. Returns 0 or -1.
static int copy(int fd, const char *name)
{
  char buf[512];
  long n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    if (write(1, buf, n) != n)
      return -1;
  if (n < 0)
    fprintf(2, "cat: %s: %s\n", name, exos_strerror(n));
  return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, -1, "usage: cat [FILE...]") < 0)
    return 2;
  int status = 0;
  if (argc < 2)
    return copy(0, "standard input") < 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: %s: %s\n", argv[i], exos_strerror(fd));
      status = 1;
      continue;
    }
    status |= copy(fd, argv[i]) < 0;
    close(fd);
  }
  return status;
}
