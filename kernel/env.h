// Environments: the kernel's unit of protection (an address space, an ASID,
// saved registers and the resources it owns).
#ifndef RVEXO_ENV_H
#define RVEXO_ENV_H

#define NENV     256  // environments at once; the id's low 8 bits are the slot
#define ENVX(id) ((id) & (NENV - 1))

// Offsets in struct env and env_info, for trapvec.S (checked below).
#define ENV_SIZE_SHIFT    9
#define ENV_SIZE          512  // sizeof(struct env), padded
#define ENV_PUB           272
#define ENV_UAREA         280
#define ENV_SATP          304
#define ENV_KERNEL_SAVED  321
#define ENV_REVOKE_UPCALL 323
#define ENV_WAITING_ON    336
#define ENV_PCT_FROM      340
#define ENV_PCT_ARMED     344
#define ENV_PCT_ONCE      348
#define ENVINFO_ID        0
#define ENVINFO_STATUS    8

#ifndef __ASSEMBLER__
#include "types.h"
#include "abi.h"

// User registers saved on a trap, in x-register order so that the field for
// xN is at byte offset 8*N (x0 is always zero, so its slot holds the pc).
// trapvec.S depends on this layout; it matches struct user_regs.
struct trapframe {
  uint64 pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
  uint64 kernel_sp;  // 8*32: this hart's kernel stack top, set on return to user
  uint64 hartid;     // 8*33: restored into tp on entry to the kernel
};

struct env {
  struct trapframe tf;   // first: sscratch points here while the env runs
  struct env_info *pub;  // its entry in the exported table: id, status, ...
  struct uarea *uarea;   // its u-area, through the direct map
  uint16 asid;
  uint64 root;        // physical address of its Sv39 root table
  uint64 satp;        // satp value for its address space; 0 without ASIDs (fast paths skip it)
  uint32 pages_head;  // its pages, listed by pmap.c
  uint32 ngrants;     // grants it holds on others' pages
  // Scheduling (sched.c)
  uint8 in_epilogue;   // it got its epilogue upcall and must yield(0) by the grace end
  uint8 kernel_saved;  // the kernel saved its registers: resume it, no prologue
  uint8 forfeit;       // slices it forfeits for overrunning
  // Revocation (revoke.c)
  uint8 revoke_upcall;  // enter ENTRY_REVOKE when it next runs
  uint32 grants_head;   // the first grant it holds (pmap.c's holder list; 0: none)
  uint64 revoke_keep;   // REVOKE_PAGES: how many user pages it may keep
  // Protected control transfer (pct.c)
  uint32 waiting_on;     // the callee of its synchronous PCT, 0 if none
  uint32 pct_from;       // whose calls it accepts: 0 anyone, PCT_NOBODY none, else one id
  uint32 pct_armed;      // with pct_once: what pct_reply restores pct_from to
  uint8 pct_once;        // each delivered call sets pct_from to PCT_NOBODY
  uint8 overrun_streak;  // epilogues overrun in a row (sched.c)
  uint8 console_wait;    // it waits in cgetc_wait for a character (uart.c)
  uint8 pct_sleeping;    // it waits in pct_accept(PCT_SLEEP) for a call
  uint32 waits_for;      // it waits in env_wait for this child to end (0: no)
  // Shares of the kernel's pools (see "Pools" in abi.h)
  uint32 grants_made;  // grant records it created that still exist
  uint32 nchildren;    // live environments whose parent it is
  uint8 nrequests;     // disk requests it issued and has not collected (disk.c)
  uint8 started;       // env_start (or the bootstrap) made it runnable once
  // Memory pressure (revoke.c)
  uint8 revoke_plea;  // its outstanding request is a plea: asked, never enforced
  uint8 declined;     // it let a plea pass unanswered: not asked again until it allocates
  // Harts (smp.c; kept only while several harts are up)
  uint8 running_on;  // the hart it runs on, plus 1 (0: none)
  uint8 tlb_stale;   // harts that must flush its ASID before they run it again (smp.h)
  uint8 slice_harts;  // sched.c: the harts whose vectors hold slices of its
  uint8 doomed;      // destroyed while it (or a sibling) ran on another hart: never runs again
  uint8 pct_queued;  // its pct_call to waiting_on, which runs on another hart, is not delivered yet
  uint8 pct_knock;   // calls are queued for it: take them when interrupted or stopped (pct.c)
  uint32 awaits_death;  // it destroyed this environment, which ran on another hart: wait till gone
  // Siblings (env.c): environments that run in another's address space
  uint32 space_owner;  // a sibling: the id of the environment whose tables it runs on (else 0)
  uint8 nsiblings;     // an owner: its live siblings
} __attribute__((aligned(ENV_SIZE)));  // a power of two: trapvec.S finds a slot by shifting

_Static_assert(sizeof(struct env) == ENV_SIZE, "ENV_SIZE");
_Static_assert(__builtin_offsetof(struct env, pub) == ENV_PUB, "ENV_PUB");
_Static_assert(__builtin_offsetof(struct env, uarea) == ENV_UAREA, "ENV_UAREA");
_Static_assert(__builtin_offsetof(struct env, satp) == ENV_SATP, "ENV_SATP");
_Static_assert(__builtin_offsetof(struct env, kernel_saved) == ENV_KERNEL_SAVED,
               "ENV_KERNEL_SAVED");
_Static_assert(__builtin_offsetof(struct env, revoke_upcall) == ENV_REVOKE_UPCALL,
               "ENV_REVOKE_UPCALL");
_Static_assert(__builtin_offsetof(struct env, waiting_on) == ENV_WAITING_ON, "ENV_WAITING_ON");
_Static_assert(__builtin_offsetof(struct env, pct_from) == ENV_PCT_FROM, "ENV_PCT_FROM");
_Static_assert(__builtin_offsetof(struct env, pct_armed) == ENV_PCT_ARMED, "ENV_PCT_ARMED");
_Static_assert(__builtin_offsetof(struct env, pct_once) == ENV_PCT_ONCE, "ENV_PCT_ONCE");
_Static_assert(__builtin_offsetof(struct env_info, id) == ENVINFO_ID, "ENVINFO_ID");
_Static_assert(__builtin_offsetof(struct env_info, status) == ENVINFO_STATUS, "ENVINFO_STATUS");

extern struct env envs[NENV];

// Does caller control target: is it target itself, target's parent, or a
// sibling in target's address space (which target owns or is a sibling in)?
static inline int env_controls(struct env *caller, struct env *target)
{
  uint32 space = target->space_owner ? target->space_owner : target->pub->id;
  return caller == target || target->pub->parent_id == caller->pub->id ||
         (caller->space_owner != 0 && caller->space_owner == space);
}

// The live environment with this id, or NULL.
static inline struct env *env_of(uint32 id)
{
  struct env *e = &envs[ENVX(id)];
  return id != 0 && e->pub->id == id ? e : NULL;
}
extern struct env_info *env_table;  // exported at UENVS

#endif  // __ASSEMBLER__

#endif
