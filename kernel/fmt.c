// Formatted output, shared by the kernel's printf and ExOS's printf family.
//
// Supported: %d %i %u %x %X %p %s %c %%, the length modifiers l, ll and z,
// a minimum width (a number or *), and the flags '-' (left-justify) and '0'
// (pad with zeros). %x and %u are unsigned; %p prints 0x and 16 hex digits.
// An unknown conversion is printed as it was written.

#include <stdarg.h>
#include "types.h"
#include "fmt.h"

static const char lower_digits[] = "0123456789abcdef";
static const char upper_digits[] = "0123456789ABCDEF";

// Emit n's digits in `base` with padding as requested by width/flags.
static void put_number(putch_fn putch, void *arg, uint64 n, int base, int negative, int width,
                       int left, char pad, const char *digits)
{
  char buf[24];
  int len = 0;

  do {
    buf[len++] = digits[n % base];
    n /= base;
  } while (n != 0);
  if (negative)
    buf[len++] = '-';

  int fill = width > len ? width - len : 0;
  if (!left && pad == '0' && negative) {
    putch('-', arg);
    len--;
  }
  if (!left)
    while (fill-- > 0)
      putch(pad, arg);
  while (len > 0)
    putch(buf[--len], arg);
  if (left)
    while (fill-- > 0)
      putch(' ', arg);
}

// Emit string s padded to width.
static void put_string(putch_fn putch, void *arg, const char *s, int width, int left)
{
  int len = 0;
  if (s == NULL)
    s = "(null)";
  while (s[len] != '\0')
    len++;
  for (int i = len; !left && i < width; i++)
    putch(' ', arg);
  for (int i = 0; i < len; i++)
    putch(s[i], arg);
  for (int i = len; left && i < width; i++)
    putch(' ', arg);
}

// Format fmt with the arguments in ap, passing each output character to
// putch(c, arg). Returns nothing; the caller counts characters if it needs to.
void vprintfmt(putch_fn putch, void *arg, const char *fmt, va_list ap)
{
  for (; *fmt != '\0'; fmt++) {
    if (*fmt != '%') {
      putch(*fmt, arg);
      continue;
    }
    const char *start = fmt++;
    int left = 0, width = 0, longs = 0;
    char pad = ' ';

    for (;; fmt++) {
      if (*fmt == '-')
        left = 1;
      else if (*fmt == '0')
        pad = '0';
      else
        break;
    }
    if (*fmt == '*') {
      width = va_arg(ap, int);
      fmt++;
    }
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l' || *fmt == 'z') {
      longs++;
      fmt++;
    }

    uint64 u;
    int64 s;
    switch (*fmt) {
    case 'd':
    case 'i':
      s = longs ? va_arg(ap, int64) : va_arg(ap, int);
      u = s < 0 ? -(uint64)s : (uint64)s;
      put_number(putch, arg, u, 10, s < 0, width, left, pad, lower_digits);
      break;
    case 'u':
      u = longs ? va_arg(ap, uint64) : va_arg(ap, uint32);
      put_number(putch, arg, u, 10, 0, width, left, pad, lower_digits);
      break;
    case 'x':
    case 'X':
      u = longs ? va_arg(ap, uint64) : va_arg(ap, uint32);
      put_number(putch, arg, u, 16, 0, width, left, pad, *fmt == 'x' ? lower_digits : upper_digits);
      break;
    case 'p':
      putch('0', arg);
      putch('x', arg);
      put_number(putch, arg, (uint64)va_arg(ap, void *), 16, 0, 16, 0, '0', lower_digits);
      break;
    case 's':
      put_string(putch, arg, va_arg(ap, const char *), width, left);
      break;
    case 'c':
      putch(va_arg(ap, int), arg);
      break;
    case '%':
      putch('%', arg);
      break;
    default:  // unknown: print what was written, and stop at end of string
      for (const char *p = start; p <= fmt && *p != '\0'; p++)
        putch(*p, arg);
      if (*fmt == '\0')
        return;
      break;
    }
  }
}

struct snbuf {
  char *buf;
  size_t size;
  size_t len;
};

static void snputch(int c, void *arg)
{
  struct snbuf *b = arg;
  if (b->len + 1 < b->size)
    b->buf[b->len] = c;
  b->len++;
}

// Like C's vsnprintf: writes at most size bytes including the terminating
// NUL, and returns the length the full output would have had.
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
  struct snbuf b = {buf, size, 0};
  vprintfmt(snputch, &b, fmt, ap);
  if (size > 0)
    buf[b.len < size ? b.len : size - 1] = '\0';
  return b.len;
}

// Like C's snprintf.
int snprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
