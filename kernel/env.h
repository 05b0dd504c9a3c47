// Environments: the kernel's unit of protection (an address space, an ASID,
// saved registers and the resources it owns).
#ifndef RVEXO_ENV_H
#define RVEXO_ENV_H

#include "types.h"

// User registers saved on a trap, in x-register order so that the field for
// xN is at byte offset 8*N (x0 is always zero, so its slot holds the pc).
// trapvec.S depends on this layout.
struct trapframe {
  uint64 pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
  uint64 kernel_sp;  // 8*32: this hart's kernel stack top, set on return to user
  uint64 hartid;     // 8*33: restored into tp on entry to the kernel
};

#define NENV     256  // environments at once; the id's low 8 bits index envs[]
#define ENVX(id) ((id) & (NENV - 1))

enum env_status { ENV_FREE, ENV_RUNNABLE, ENV_NOT_RUNNABLE };

struct env {
  struct trapframe tf;  // first: sscratch points here while the env runs
  uint32 id;            // generation << 8 | index; never 0
  uint32 parent_id;
  enum env_status status;
  uint16 asid;
  uint64 root;  // physical address of its Sv39 root table
  char name[16];
};

extern struct env envs[NENV];

#endif
