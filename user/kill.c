// kill: end the processes named by pid (hexadecimal, as ps shows them).

#include "ulib/ulib.h"

// The value of hexadecimal digit c, or -1.
static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 1, -1, "usage: kill PID...") < 0)
    return 2;
  int status = 0;
  for (int i = 1; i < argc; i++) {
    unsigned long pid = 0;
    const char *s = argv[i];
    for (; hex_digit(*s) >= 0 && pid <= 0xFFFFFFFFUL; s++)
      pid = pid * 16 + hex_digit(*s);
    if (*s != 0 || s == argv[i] || pid > 0xFFFFFFFFUL) {
      fprintf(2, "kill: %s: not a pid (hexadecimal, as ps shows it)\n", argv[i]);
      status = 2;
      continue;
    }
    long err = sys_env_destroy(pid);
    if (err < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], exos_strerror(err));
      status = 1;
    }
  }
  return status;
}
