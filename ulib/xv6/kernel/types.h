// The type names of xv6's kernel/types.h, as programs written for xv6 see
// them: rvexo's own (kernel/types.h in the repository's root, which has
// most of them) and the two it lacks. Only xv6 programs find this file: the
// Makefile puts ulib/xv6 before the root on their include path
// (XV6_CFLAGS), and #include_next reaches the root's file behind it.
#ifndef RVEXO_XV6_TYPES_H
#define RVEXO_XV6_TYPES_H

#include_next "kernel/types.h"

typedef unsigned short ushort;
typedef uint64 pde_t;

#endif
