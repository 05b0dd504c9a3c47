// printf for user programs: formats with kernel/fmt.c into a buffer and
// writes it to the console with one system call per buffer-full.

#include <stdarg.h>
#include "ulib.h"

struct outbuf {
  char data[256];
  size_t len;
};

static void flush(struct outbuf *b)
{
  if (b->len > 0)
    sys_cputs(b->data, b->len);
  b->len = 0;
}

static void buffer_putch(int c, void *arg)
{
  struct outbuf *b = arg;
  if (b->len == sizeof(b->data))
    flush(b);
  b->data[b->len++] = c;
}

// Format and print to the console.
int vprintf(const char *fmt, va_list ap)
{
  struct outbuf b = {.len = 0};
  vprintfmt(buffer_putch, &b, fmt, ap);
  flush(&b);
  return 0;
}

int printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  return 0;
}
