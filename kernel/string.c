// Memory and string functions, shared by the kernel and ExOS.
// GCC may emit calls to memset, memcpy, memmove and memcmp by itself.

#include "types.h"
#include "string.h"

// Fill n bytes at dst with c. Aligned runs go a word at a time, eight
// words a round (every page zeroed or copied in the system passes here).
void *memset(void *dst, int c, size_t n)
{
  uint8 *d = dst;
  if ((((uintptr_t)d | n) & 7) == 0) {
    uint64 word = (uint8)c * 0x0101010101010101UL, *w = dst, *end = (uint64 *)(d + n);
    for (; end - w >= 8; w += 8)
      w[0] = w[1] = w[2] = w[3] = w[4] = w[5] = w[6] = w[7] = word;
    for (; w < end; w++)
      *w = word;
    return dst;
  }
  for (size_t i = 0; i < n; i++)
    d[i] = c;
  return dst;
}

// Copy the n words at r to w (forward), eight words a round.
static inline void copy_words(uint64 *w, const uint64 *r, size_t n)
{
  uint64 *end = w + n;
  for (; end - w >= 8; w += 8, r += 8) {
    uint64 a = r[0], b = r[1], c = r[2], e = r[3], f = r[4], g = r[5], h = r[6], k = r[7];
    w[0] = a, w[1] = b, w[2] = c, w[3] = e, w[4] = f, w[5] = g, w[6] = h, w[7] = k;
  }
  for (; w < end; w++, r++)
    *w = *r;
}

// Copy n bytes from src to dst, which may overlap. A forward copy goes a
// word at a time if its ends are equally aligned (the bytes before the
// first word boundary and after the last one by one).
void *memmove(void *dst, const void *src, size_t n)
{
  uint8 *d = dst;
  const uint8 *s = src;
  if (s < d && s + n > d) {
    while (n-- > 0)
      d[n] = s[n];
    return dst;
  }
  if ((((uintptr_t)d | (uintptr_t)s | n) & 7) == 0) {
    copy_words(dst, src, n / 8);
    return dst;
  }
  if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0 && n >= 16) {
    for (; ((uintptr_t)d & 7) != 0; n--)
      *d++ = *s++;
    copy_words((uint64 *)d, (const uint64 *)s, n / 8);
    d += n & ~7UL, s += n & ~7UL, n &= 7;
  }
  for (size_t i = 0; i < n; i++)
    d[i] = s[i];
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
  return memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
  const uint8 *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i])
      return x[i] - y[i];
  return 0;
}

size_t strlen(const char *s)
{
  size_t n = 0;
  while (s[n] != '\0')
    n++;
  return n;
}

int strcmp(const char *a, const char *b)
{
  while (*a != '\0' && *a == *b)
    a++, b++;
  return (uint8)*a - (uint8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
  for (; n > 0; n--, a++, b++)
    if (*a == '\0' || *a != *b)
      return (uint8)*a - (uint8)*b;
  return 0;
}

// Copy at most size-1 characters of src and always NUL-terminate (if size > 0).
// Returns strlen(src), so truncation shows as a result >= size.
size_t strlcpy(char *dst, const char *src, size_t size)
{
  size_t n = strlen(src);
  if (size > 0) {
    size_t m = n < size - 1 ? n : size - 1;
    memmove(dst, src, m);
    dst[m] = '\0';
  }
  return n;
}

char *strchr(const char *s, int c)
{
  for (; *s != '\0'; s++)
    if (*s == (char)c)
      return (char *)s;
  return c == '\0' ? (char *)s : NULL;
}
