// Fixed-width integer types used by the kernel and by ExOS.
// The names match the ones xv6-derived course code expects.
#ifndef RVEXO_TYPES_H
#define RVEXO_TYPES_H

typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef unsigned long uint64;
typedef signed char int8;
typedef short int16;
typedef int int32;
typedef long int64;

typedef unsigned int uint;
typedef unsigned char uchar;
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long uintptr_t;

#define NULL ((void *)0)

#endif
