// ExOS: the library operating system every rvexo program links.
// This header is what a program includes.
#ifndef EXOS_ULIB_H
#define EXOS_ULIB_H

#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "syscall.h"
#include "ulib/fsformat.h"

// Errors of ExOS's own, numbered after the kernel's (ERROR_LIST in
// kernel/abi.h); functions return them negated, like the kernel's.
#define EXOS_ERROR_LIST(X)                                                                         \
  X(64, E_NOTFOUND, "no such file or directory")                                                   \
  X(65, E_NOTDIR, "not a directory")                                                               \
  X(66, E_BADFS, "no rvexo file system on the disk")                                               \
  X(67, E_NOEXEC, "not an rvexo program")                                                          \
  X(68, E_2BIG, "argument list too long")
#define EXOS_ERROR_NUMBER(n, name, text) name = n,
enum { EXOS_ERROR_LIST(EXOS_ERROR_NUMBER) };
#undef EXOS_ERROR_NUMBER

struct xframe;
typedef int (*exos_handler)(struct xframe *f);  // returns 1 if it handled the exception

// printf.c
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(int fd, const char *fmt, va_list ap);
const char *exos_strerror(long err);

// libmain.c
void exit(int status) __attribute__((noreturn));
void exos_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : exos_assert_fail(#e, __FILE__, __LINE__))

// exception.c, xentry.S
void exos_xentry(void);
exos_handler exos_set_handler(int cause, exos_handler fn);
void exos_backtrace(unsigned long pc, unsigned long ra, unsigned long fp);
const char *exos_progname(void);
long exos_exceptions_init(void);

// vm.c
long vm_init(void);
long vm_page_alloc(int type);
unsigned long vm_pte(unsigned long va);
long vm_map(unsigned long va, unsigned long ppn, unsigned long bits);
long vm_map_ad(unsigned long va, unsigned long ppn, unsigned long bits);
long vm_table(unsigned long va);
void vm_window(unsigned long keys[3]);
void vm_adopt(const unsigned long keys[3]);
long vm_unmap(unsigned long va);
long vm_protect(unsigned long va, unsigned long bits);
long vm_protect_range(unsigned long va, unsigned long npages, unsigned long bits);
long vm_alloc(unsigned long va, unsigned long bits);

// diskfs.c: the file system on the disk, read-only (until the file server)
struct diskfs_file {
  unsigned int inum;
  struct dinode di;
};
long diskfs_open(const char *path, struct diskfs_file *f);
long diskfs_read(const struct diskfs_file *f, void *dst, unsigned long off, unsigned long n);
long diskfs_bmap(const struct diskfs_file *f, unsigned long index);

// spawn.c
int spawn(const char *path, char *const argv[]);
int exec(const char *path, char *const argv[]);
void exec_finish(void);

// fork.c, context.S
void fork_init(void);
void fork_record_exit(int status);
int fork(void);
int wait(int *status);
int waitpid(int pid, int *status);
int kill(int pid);
int getpid(void);
extern volatile unsigned long exos_cow_copies;
long exos_save_context(long *ctx);
void exos_resume_context(long *ctx, long value) __attribute__((noreturn));

// stride.c
int stride_add(int pid, unsigned long tickets);
long stride_run(unsigned long ticks);

// vm.c (more)
long vm_for_each_leaf(long (*fn)(unsigned long va, unsigned long pte, void *arg), void *arg);

// revoke.c: paged regions and the replacement policy that answers revocation
struct exos_resident {
  unsigned long va, ppn;
  unsigned long loaded;  // when it was read in (1, 2, 3, ...)
};
typedef int (*exos_policy)(const struct exos_resident *pages, int n);  // returns a victim's index
long region_map(unsigned long va, unsigned long npages, const unsigned int *blocks);
int region_contains(unsigned long va);
int region_resident(void);
void region_set_allowance(unsigned long npages);
void region_sync(void);
exos_policy exos_set_policy(exos_policy p);
int exos_policy_clock(const struct exos_resident *pages, int n);
void revoke_init(void);
void exos_revoke_entry(void);
extern volatile unsigned long exos_pageins, exos_pageouts, exos_pages_lost;
extern volatile unsigned long exos_critical;

// heap.c
void heap_init(void);
void *sbrk(long n);
void *malloc(size_t n);
void free(void *p);

#endif
