// The printf family for user programs: formats with kernel/fmt.c, into a
// buffer written out with one call per buffer-full (the string forms,
// snprintf and vsnprintf, are kernel/fmt.c's); the console's output; and
// the messages for error numbers. printf is at the bottom of ExOS: it
// writes to the console (descriptors 1 and 2 alike) until the descriptors
// start and install write() as its output (printf_set_output).

#include <stdarg.h>
#include "ulib.h"

struct outbuf {
  char data[256];
  size_t len, total;
  int fd, failed;
};

// Print n bytes from buf, in pieces no bigger than the kernel prints at
// once (CPUTS_MAX). Returns n, or the kernel's error (E_FAULT for a bad
// buf) if the first piece fails, or the bytes of the pieces before the
// one that failed.
long console_write(const void *buf, unsigned long n)
{
  unsigned long done = 0;
  while (done < n) {
    unsigned long k = n - done < CPUTS_MAX ? n - done : CPUTS_MAX;
    long r = sys_cputs((const char *)buf + done, k);
    if (r < 0)
      return done > 0 ? (long)done : r;
    done += k;
  }
  return n;
}

// The output before descriptors start: every descriptor is the console.
static long console_output(int fd, const void *buf, unsigned long n)
{
  return console_write(buf, n);
}

static long (*output)(int fd, const void *buf, unsigned long n) = console_output;

// Make fn(fd, buf, n) the function the printf family writes with (fd.c
// installs write when descriptors start).
void printf_set_output(long (*fn)(int fd, const void *buf, unsigned long n))
{
  output = fn;
}

// Write out what b holds.
static void flush(struct outbuf *b)
{
  if (b->len > 0 && output(b->fd, b->data, b->len) < 0)
    b->failed = 1;
  b->len = 0;
}

// Add a character to b, flushing it when full.
static void buffer_putch(int c, void *arg)
{
  struct outbuf *b = arg;
  if (b->len == sizeof(b->data))
    flush(b);
  b->data[b->len++] = c;
  b->total++;
}

// Format to descriptor fd. Returns the number of characters written, or
// -1 if writing failed (a bad descriptor, a pipe nobody reads).
int vfprintf(int fd, const char *fmt, va_list ap)
{
  struct outbuf b = {.len = 0, .total = 0, .fd = fd, .failed = 0};
  vprintfmt(buffer_putch, &b, fmt, ap);
  flush(&b);
  return b.failed ? -1 : (int)b.total;
}

// Format to descriptor fd. See vfprintf.
int fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(fd, fmt, ap);
  va_end(ap);
  return n;
}

// Format to the console (standard output). Returns the characters written.
int vprintf(const char *fmt, va_list ap)
{
  return vfprintf(1, fmt, ap);
}

// Format to the console. See vprintf.
int printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(1, fmt, ap);
  va_end(ap);
  return n;
}

#define ERROR_TEXT(n, name, text) [n] = text,
static const char *const messages[] = {ERROR_LIST(ERROR_TEXT) EXOS_ERROR_LIST(ERROR_TEXT)};

// The message for error err (negative, as functions return it, or positive).
const char *exos_strerror(long err)
{
  unsigned long n = err < 0 ? -err : err;
  if (n < sizeof(messages) / sizeof(messages[0]) && messages[n] != NULL)
    return messages[n];
  return "unknown error";
}
