// grep: print the lines that match a pattern, from each file named (or the
// standard input). Patterns: c matches itself, . any character, x* any
// number of x (greedy, backtracking), ^ the start and $ the end of a line.

#include "ulib/ulib.h"

static int match_here(const char *re, const char *text);

// Does x* followed by re match at the start of text?
static int match_star(char x, const char *re, const char *text)
{
  const char *t = text;
  while (*t != 0 && (x == '.' || *t == x))
    t++;
  for (; t >= text; t--)  // the longest run of x first
    if (match_here(re, t))
      return 1;
  return 0;
}

// Does re match at the start of text?
static int match_here(const char *re, const char *text)
{
  if (re[0] == 0)
    return 1;
  if (re[1] == '*')
    return match_star(re[0], re + 2, text);
  if (re[0] == '$' && re[1] == 0)
    return *text == 0;
  if (*text != 0 && (re[0] == '.' || re[0] == *text))
    return match_here(re + 1, text + 1);
  return 0;
}

// Does re match anywhere in text?
static int match(const char *re, const char *text)
{
  if (re[0] == '^')
    return match_here(re + 1, text);
  do {
    if (match_here(re, text))
      return 1;
  } while (*text++ != 0);
  return 0;
}

// Print the lines of fd matching re (prefixed with name if it is not NULL).
// Returns how many matched.
static int grep(const char *re, int fd, const char *name)
{
  static char line[1024];
  unsigned long len = 0;
  int found = 0;
  char c;
  long n;
  while ((n = read(fd, &c, 1)) >= 0) {
    if (n == 1 && c != '\n' && len < sizeof(line) - 1) {
      line[len++] = c;
      continue;
    }
    if (n == 0 && len == 0)
      break;
    line[len] = 0;
    if (match(re, line)) {
      found++;
      printf("%s%s%s\n", name ? name : "", name ? ":" : "", line);
    }
    len = 0;
    if (n == 0)
      break;
  }
  return found;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 1, -1, "usage: grep PATTERN [FILE...]") < 0)
    return 2;
  int found = 0, status = 0;
  if (argc == 2)
    found = grep(argv[1], 0, NULL);
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: %s: %s\n", argv[i], exos_strerror(fd));
      status = 2;
      continue;
    }
    found += grep(argv[1], fd, argc > 3 ? argv[i] : NULL);
    close(fd);
  }
  return status ? status : found == 0;
}
