// ExOS: the library operating system every rvexo program links.
// This header is what a program includes.
#ifndef EXOS_ULIB_H
#define EXOS_ULIB_H

#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "syscall.h"

// printf.c
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

// libmain.c
void exit(int status) __attribute__((noreturn));

#endif
