// The user-level interface of xv6, as ExOS provides it, so that a program
// written for xv6 builds unchanged (xv6 compatibility: ulib/xv6/README.md).
// The functions are ExOS's own (ulib/); the declarations use xv6's types.
#ifndef RVEXO_XV6_USER_H
#define RVEXO_XV6_USER_H

struct stat;

// Processes, files and memory (system calls in xv6).
int fork(void);
int exit(int) __attribute__((noreturn));
int wait(int *);
int pipe(int *);
int write(int, const void *, int);
int read(int, void *, int);
int close(int);
int kill(int);
int exec(const char *, char **);
int open(const char *, int);
int mknod(const char *, short, short);
int unlink(const char *);
int fstat(int fd, struct stat *);
int link(const char *, const char *);
int mkdir(const char *);
int chdir(const char *);
int dup(int);
int getpid(void);
char *sbrk(int);
int sleep(int);
int uptime(void);

// The library (ulib in xv6).
int stat(const char *, struct stat *);
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
