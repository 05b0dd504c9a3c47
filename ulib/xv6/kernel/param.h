// xv6's system limits, with rvexo's values (xv6 compatibility:
// ulib/xv6/README.md). compat.c checks those that are ExOS's against the
// constant each stands for.
#ifndef RVEXO_XV6_PARAM_H
#define RVEXO_XV6_PARAM_H

#define NPROC     256  // processes at once (environments: the kernel's NENV)
#define NCPU      8    // harts the kernel runs on at most (MAXHARTS)
#define NOFILE    32   // open descriptors per process (ExOS's NFD)
#define NFILE     32   // open files per process (ExOS's NFILE; xv6's are shared by all)
#define MAXARG    256  // arguments exec passes (MAXARGS in spawn.c)
#define MAXPATH   256  // the longest path, its NUL included (FS_MAXPATH)
#define ROOTDEV   1    // the file system's device
#define USERSTACK 256  // pages the stack may grow to (EXOS_STACK_MAX); a guard page below

#endif
