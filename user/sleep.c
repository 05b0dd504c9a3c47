// sleep: wait N seconds (tenths allowed: sleep 0.5), giving the processor
// to others meanwhile.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 1, 1, "usage: sleep SECONDS") < 0)
    return 2;
  unsigned long tenths = 0, seen_point = 0;
  for (const char *s = argv[1]; *s; s++) {
    if (*s == '.') {
      seen_point = 1;
      continue;
    }
    if (*s < '0' || *s > '9') {
      fprintf(2, "sleep: not a number: %s\n", argv[1]);
      return 2;
    }
    if (!seen_point)
      tenths = tenths * 10 + (*s - '0') * 10;
    else if (seen_point++ == 1)
      tenths += *s - '0';
  }
  unsigned long hz = ((const struct sysinfo *)USYSINFO)->timebase_hz;
  unsigned long end = sys_uptime() + hz / 10 * tenths;
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
  return 0;
}
