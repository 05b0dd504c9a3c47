// The parts of smp.c that the trap and mapping paths use inline: with one
// hart up they cost a load and a branch, and no call.
#ifndef RVEXO_SMP_H
#define RVEXO_SMP_H

#include "env.h"
#include "riscv.h"

extern int smp_on;
void kernel_lock_smp(void);
void kernel_unlock_smp(void);
void user_left(void);

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

extern uint64 fences_pending[MAXHARTS];  // harts to shoot down before the lock is released
extern uint64 harts_up_mask;
// Is hart h in user mode (or on its way there, or back)? 0 from its trap's
// first instruction in C until it releases the lock to return (trap_return).
extern volatile uint8 hart_in_user[MAXHARTS];

// A mapping in e's address space was broken and this hart's TLB fenced.
// The other harts may hold translations through it too, tagged with e's
// ASID. The hart running e now, if another and in user mode, is fenced
// before this hart releases the lock (tlb_fence_remote); every other hart,
// lazily, before it next returns to e in user mode (trap_return): the
// kernel never uses a user translation (it reaches user memory through the
// direct map), and a hart in the kernel needs the lock to leave it. So a
// hart taking the lock to enter the kernel is not fenced while it waits.
// Nothing with one hart.
static inline void tlb_note_remote(struct env *e)
{
  if (!smp_on)
    return;
  // LAB smp: e's ASID stale on every other hart up; the hart running e in user mode now noted
  // HANDOUT: (void)e;
  uint64 me = r_tp();
  e->tlb_stale |= harts_up_mask & ~(1UL << me);
  if (e->running_on == 0 || e->running_on == me + 1 || !hart_in_user[e->running_on - 1])
    return;
  fences_pending[me] |= 1UL << (e->running_on - 1);
  // END LAB smp
}

void tlb_note_siblings(struct env *e);

// tlb_note_remote for the siblings running on e's tables, if e owns any
// (abi.h, "Siblings": they share its ASID).
static inline void tlb_note_siblings_of(struct env *e)
{
  if (smp_on && e->nsiblings != 0)
    tlb_note_siblings(e);
}

// tlb_note_remote for every environment that runs on e's tables: e, and
// its owner and siblings if it has any.
static inline void tlb_note_space(struct env *e)
{
  if (!smp_on)
    return;
  tlb_note_remote(e);
  if (e->space_owner != 0 || e->nsiblings != 0)
    tlb_note_siblings(e);
}

#endif
