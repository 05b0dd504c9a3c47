// Formatted output shared by the kernel and ExOS (kernel/fmt.c).
#ifndef RVEXO_FMT_H
#define RVEXO_FMT_H

#include <stdarg.h>
#include "types.h"

typedef void (*putch_fn)(int c, void *arg);

void vprintfmt(putch_fn putch, void *arg, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
