// The parts of xv6's user interface that ExOS has no other use for, so
// that programs written for xv6 build unchanged (ulib/xv6/README.md says
// what differs). The file-system calls are in fsclient.c. xv6 reports
// every failure as -1 where ExOS returns -E_...: the xv6_ functions at the
// end are the calls an xv6 program makes (ulib/xv6/user/user.h binds its
// names to them).

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"
#include "kernel/param.h"  // xv6's limits (ulib/xv6/kernel/param.h)

_Static_assert(NOFILE == NFD && MAXARG == MAXARGS && MAXPATH == FS_MAXPATH &&
                   USERSTACK * PGSIZE == EXOS_STACK_MAX,
               "xv6's limits in ulib/xv6/kernel/param.h are ExOS's");

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

// A result as xv6 gives it: -1 for any error.
static int xv6_result(long r)
{
  return r < 0 ? -1 : (int)r;
}

// xv6's read and write: ExOS's, but a negative count fails, and any error
// is -1.
int xv6_read(int fd, void *buf, int n)
{
  return n < 0 ? -1 : xv6_result(read(fd, buf, n));
}

// See xv6_read.
int xv6_write(int fd, const void *buf, int n)
{
  return n < 0 ? -1 : xv6_result(write(fd, buf, n));
}

// The other calls of xv6's that can fail: ExOS's, with any error as -1.
// clang-format off
int xv6_fork(void) { return xv6_result(fork()); }
int xv6_wait(int *status) { return xv6_result(wait(status)); }
int xv6_pipe(int *p) { return xv6_result(pipe(p)); }
int xv6_close(int fd) { return xv6_result(close(fd)); }
int xv6_kill(int pid) { return xv6_result(kill(pid)); }
int xv6_exec(const char *path, char **argv) { return xv6_result(exec(path, argv)); }
int xv6_open(const char *path, int flags) { return xv6_result(open(path, flags)); }
int xv6_mknod(const char *path, short major, short minor) { return xv6_result(mknod(path, major, minor)); }
int xv6_unlink(const char *path) { return xv6_result(unlink(path)); }
int xv6_fstat(int fd, struct stat *st) { return xv6_result(fstat(fd, st)); }
int xv6_stat(const char *path, struct stat *st) { return xv6_result(stat(path, st)); }
int xv6_link(const char *old, const char *new) { return xv6_result(link(old, new)); }
int xv6_mkdir(const char *path) { return xv6_result(mkdir(path)); }
int xv6_chdir(const char *path) { return xv6_result(chdir(path)); }
int xv6_dup(int fd) { return xv6_result(dup(fd)); }
// clang-format on
