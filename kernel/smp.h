// The parts of smp.c that the trap and mapping paths use inline: with one
// hart up they cost a load and a branch, and no call.
#ifndef RVEXO_SMP_H
#define RVEXO_SMP_H

#include "env.h"
#include "riscv.h"

extern int smp_on;
void kernel_lock_smp(void);
void kernel_unlock_smp(void);

// Take the kernel lock (see the top of smp.c); nothing with one hart.
static inline void kernel_lock(void)
{
  if (smp_on)
    kernel_lock_smp();
}

// Release the kernel lock (after the shootdowns noted); nothing with one hart.
static inline void kernel_unlock(void)
{
  if (smp_on)
    kernel_unlock_smp();
}

// Does e run on another hart now? (Then it is not this hart's to run, to
// call into, or to destroy at once.)
static inline int env_running_elsewhere(struct env *e)
{
  return smp_on && e->running_on != 0 && e->running_on != r_tp() + 1;
}

extern uint64 harts_idle_mask;  // the harts waiting in wfi with nothing to run
extern int wake_wanted;         // an environment became runnable: wake an idle hart

// Make e runnable, and with several harts up have an idle one (if any)
// woken to run it when this hart releases the lock. (Where the caller goes
// on to run e itself, it sets the status alone.)
static inline void env_wake(struct env *e)
{
  e->pub->status = ENV_RUNNABLE;
  if (smp_on)
    wake_wanted = 1;
}

// Shootdowns noted by each hart and not yet done: the harts to fence and
// the ASID (FENCE_ALL: every address space).
#define FENCE_ALL (~0UL)
struct fences {
  uint64 harts;
  uint64 asid;
};
extern struct fences fences_pending[MAXHARTS];
extern uint64 harts_up_mask;

// A mapping in e's address space was broken and this hart's TLB fenced.
// The other harts may hold translations through it too, tagged with e's
// ASID. The hart running e now (if another) is fenced before this hart
// releases the lock (tlb_fence_remote); every other hart, lazily, when it
// next switches to e (env_run). Nothing with one hart.
static inline void tlb_note_remote(struct env *e)
{
  if (!smp_on)
    return;
  uint64 me = r_tp();
  e->tlb_stale |= harts_up_mask & ~(1UL << me);
  if (e->running_on == 0 || e->running_on == me + 1)
    return;
  struct fences *f = &fences_pending[me];
  f->asid = e->asid == 0 || (f->harts != 0 && f->asid != e->asid) ? FENCE_ALL : e->asid;
  f->harts |= 1UL << (e->running_on - 1);
}

#endif
