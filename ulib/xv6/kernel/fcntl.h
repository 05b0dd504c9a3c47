// Flags of open(), with xv6's names and values (xv6 compatibility).
#ifndef RVEXO_XV6_FCNTL_H
#define RVEXO_XV6_FCNTL_H

#define O_RDONLY 0x000
#define O_WRONLY 0x001
#define O_RDWR   0x002
#define O_CREATE 0x200
#define O_TRUNC  0x400
#define O_APPEND 0x800

#endif
