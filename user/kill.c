// kill: end the processes named by pid (hexadecimal, as ps shows them).

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  int status = 0;
  if (argc < 2) {
    fprintf(2, "usage: kill PID...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    unsigned long pid = 0;
    for (const char *s = argv[i]; *s; s++)
      pid = pid * 16 + (*s >= 'a' ? *s - 'a' + 10 : *s >= 'A' ? *s - 'A' + 10 : *s - '0');
    long err = sys_env_destroy(pid);
    if (err < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], exos_strerror(err));
      status = 1;
    }
  }
  return status;
}
