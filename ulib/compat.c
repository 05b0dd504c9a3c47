// The parts of xv6's user interface that ExOS has no other use for, so
// that programs written for xv6 build unchanged (ulib/xv6/README.md says
// what differs). The file-system calls are in fsclient.c.

#include "ulib.h"

#define TICKS_PER_SECOND 10  // xv6's clock on QEMU ticks every 100 ms

// The clock in xv6's ticks since boot.
int uptime(void)
{
  return sys_uptime() / (((const struct sysinfo *)USYSINFO)->timebase_hz / TICKS_PER_SECOND);
}

// Wait for n ticks, giving the processor away meanwhile. Returns 0.
int sleep(int ticks)
{
  unsigned long hz = ((const struct sysinfo *)USYSINFO)->timebase_hz;
  unsigned long end = sys_uptime() + hz / TICKS_PER_SECOND * (ticks > 0 ? ticks : 0);
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
  return 0;
}

// Copy the string src to dst. Returns dst.
char *strcpy(char *dst, const char *src)
{
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

// Read a line (with its newline) of at most max - 1 characters from the
// standard input into buf. Returns buf (empty at the end of the input).
char *gets(char *buf, int max)
{
  int i = 0;
  char c;
  while (i + 1 < max && read(0, &c, 1) == 1) {
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

// The decimal number at the start of s.
int atoi(const char *s)
{
  int n = 0;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + *s++ - '0';
  return n;
}
