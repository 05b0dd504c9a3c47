// The user-level interface of xv6, as ExOS provides it, so that a program
// written for xv6 builds unchanged and behaves as on xv6 (xv6
// compatibility: ulib/xv6/README.md). The declarations are xv6's. A call
// that can fail is bound (by an asm label) to compat.c's xv6_ version of
// it, which reports any failure as -1 as xv6 does, where ExOS's own
// returns -E_...; the rest are ExOS's own functions.
#ifndef RVEXO_XV6_USER_H
#define RVEXO_XV6_USER_H

#define SBRK_ERROR ((char *)-1)  // what sbrk returns when it fails

struct stat;

// Processes, files and memory (system calls in xv6).
int fork(void) __asm__("xv6_fork");
int exit(int) __attribute__((noreturn));
int wait(int *) __asm__("xv6_wait");
int pipe(int *) __asm__("xv6_pipe");
int write(int, const void *, int) __asm__("xv6_write");
int read(int, void *, int) __asm__("xv6_read");
int close(int) __asm__("xv6_close");
int kill(int) __asm__("xv6_kill");
int exec(const char *, char **) __asm__("xv6_exec");
int open(const char *, int) __asm__("xv6_open");
int mknod(const char *, short, short) __asm__("xv6_mknod");
int unlink(const char *) __asm__("xv6_unlink");
int fstat(int fd, struct stat *) __asm__("xv6_fstat");
int link(const char *, const char *) __asm__("xv6_link");
int mkdir(const char *) __asm__("xv6_mkdir");
int chdir(const char *) __asm__("xv6_chdir");
int dup(int) __asm__("xv6_dup");
int getpid(void);
char *sbrk(int);
char *sbrklazy(int) __asm__("sbrk");  // ExOS's heap is always filled lazily
int sleep(int);
int pause(int) __asm__("sleep");  // xv6's newer name for sleep
int uptime(void);

// The library (ulib in xv6).
int stat(const char *, struct stat *) __asm__("xv6_stat");
char *strcpy(char *, const char *);
void *memmove(void *, const void *, int);
char *strchr(const char *, char c);
int strcmp(const char *, const char *);
void fprintf(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void printf(const char *, ...) __attribute__((format(printf, 1, 2)));
char *gets(char *, int max);
unsigned int strlen(const char *);
void *memset(void *, int, unsigned int);
void *malloc(unsigned int);
void free(void *);
int atoi(const char *);
int memcmp(const void *, const void *, unsigned int);
void *memcpy(void *, const void *, unsigned int);

#endif
