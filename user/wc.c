// wc: count the lines, words and bytes of each file named (or the
// standard input).

#include "ulib/ulib.h"

static long total_lines, total_words, total_bytes;

// Count descriptor fd and print the counts with name.
static void count(int fd, const char *name)
{
  char buf[512];
  long n, lines = 0, words = 0, bytes = 0;
  int in_word = 0;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    for (long i = 0; i < n; i++) {
      bytes++;
      lines += buf[i] == '\n';
      int space = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r';
      words += !space && !in_word;
      in_word = !space;
    }
  printf("%ld %ld %ld %s\n", lines, words, bytes, name);
  total_lines += lines, total_words += words, total_bytes += bytes;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, -1, "usage: wc [FILE...]") < 0)
    return 2;
  if (argc < 2) {
    count(0, "");
    return 0;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: %s: %s\n", argv[i], exos_strerror(fd));
      status = 1;
      continue;
    }
    count(fd, argv[i]);
    close(fd);
  }
  if (argc > 2)
    printf("%ld %ld %ld total\n", total_lines, total_words, total_bytes);
  return status;
}
