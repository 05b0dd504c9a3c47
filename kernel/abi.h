// The rvexo system-call ABI: the one header shared by the kernel and ExOS.
//
// Calling convention: the call number goes in a7, arguments in a0..a5, and
// `ecall` traps into the kernel. The result comes back in a0: zero or a
// positive value on success, a negative E_* code on failure. Only a0 and a7
// are changed by a system call (and t0..t6 may be clobbered); every other
// register is preserved.
//
// SYSCALL_LIST is the single list of calls. ExOS's stubs (ulib/usys.S) and
// their C prototypes (ulib/syscall.h) are generated from it by the
// preprocessor; the kernel's dispatcher (kernel/syscall.c) switches on the
// SYS_* numbers it defines.
#ifndef RVEXO_ABI_H
#define RVEXO_ABI_H

//        number  name      return  C parameters
#define SYSCALL_LIST(X)                                                                            \
  X(1, cputs, long, (const char *s, unsigned long len))                                            \
  X(2, cgetc, long, (void))                                                                        \
  X(3, getenvid, long, (void))                                                                     \
  X(4, env_exit, void, (int status))

// Error codes. System calls return their negation.
#define ERROR_LIST(X)                                                                              \
  X(1, E_INVAL, "invalid argument")                                                                \
  X(2, E_NOSYS, "no such system call")                                                             \
  X(3, E_FAULT, "bad user address")                                                                \
  X(4, E_NOMEM, "out of memory")                                                                   \
  X(5, E_NOENV, "no free environment")                                                             \
  X(6, E_BADENV, "no such environment or not permitted")                                           \
  X(7, E_AGAIN, "resource temporarily unavailable")

#define NERRORS 8  // one more than the largest error number

#ifndef __ASSEMBLER__
#define ERROR_NUMBER(n, name, text) name = n,
enum { ERROR_LIST(ERROR_NUMBER) };
#undef ERROR_NUMBER
#define SYSCALL_NUMBER(n, name, rtype, params) SYS_##name = n,
enum { SYSCALL_LIST(SYSCALL_NUMBER) };
#undef SYSCALL_NUMBER
#endif

#ifndef __ASSEMBLER__
// The physical page table, one entry per page of RAM, indexed by
// (physical page number - first RAM page number). Exported read-only.
enum page_type {
  PG_FREE,    // on the free list
  PG_KERNEL,  // the kernel's own (image, tables, firmware)
  PG_USER,    // an environment's data page
  PG_PT0,     // an environment's page-table page, level 0 (leaves)
  PG_PT1,     // level 1
  PG_PT2,     // level 2 (the root)
};

struct page_info {
  unsigned int owner;  // id of the owning environment, 0 if none
  unsigned char type;  // enum page_type
  unsigned char flags;
  unsigned short mapcount;  // number of PTEs that map this page
};
#endif

// User address-space layout the kernel relies on. Everything else in the user
// half (0 .. 2^38-1) is the library OS's to arrange.
#define UTOP 0x4000000000UL  // first address above the user half

// The first environment (init) is loaded by the kernel itself, with one
// stack page just below INIT_STACKTOP.
#define INIT_STACKTOP 0x3F00000000UL

#endif
