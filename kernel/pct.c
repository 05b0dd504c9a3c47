// Protected control transfer: a system call that moves the processor to
// another environment at the entry point it registered, carrying a message
// in registers.
//
// The callee enters ENTRY_PCT with its own registers except: a0..a5 hold the
// message, a6 the caller's id (written by the kernel: it cannot be forged),
// a7 PCT_SYNC or PCT_ASYNC. Its previous pc is kept in its u-area (pct_pc).
// The kernel saves nothing else; the library OS saves what it needs.
//
// The common cases of pct_call and pct_reply run entirely in assembly
// (trapvec.S, pct_call_fast and pct_reply_fast), saving only the registers
// the system-call ABI preserves; the C code here handles the rest (async
// sends, refusals, errors, pending upcalls, hardware without ASIDs).
//
// pct_call is synchronous: the caller donates the rest of its slice, and its
// later slices, to the callee and waits until the callee answers with
// pct_reply (a0..a5 come back as the call's results) or dies (the call
// returns -E_BADENV). pct_send is asynchronous: the callee runs for the rest
// of the slice, and the caller's call returns 0 when it next runs.
//
// With several harts, a callee may be running on another hart. A call to it
// is queued: the caller waits, and the callee's hart, interrupted by an
// IPI, delivers the call there (between two of the callee's instructions,
// as if it had been preempted), or, if the callee stops running first,
// delivers it then or answers the refusal it would have met. A send to it
// answers -E_AGAIN.

#include "defs.h"
#include "env.h"
#include "smp.h"

// Copy the six message registers a0..a5 from one trapframe to another.
static inline void copy_message(struct trapframe *to, const struct trapframe *from)
{
  to->a0 = from->a0;
  to->a1 = from->a1;
  to->a2 = from->a2;
  to->a3 = from->a3;
  to->a4 = from->a4;
  to->a5 = from->a5;
}

// Enter callee c's PCT entry with the message in caller e's a0..a5.
static void deliver(struct env *e, struct env *c, int kind)
{
  struct uarea *u = c->uarea;
  u->pct_pc = c->tf.pc;
  copy_message(&c->tf, &e->tf);
  c->tf.a6 = e->pub->id;
  c->tf.a7 = kind;
  c->tf.pc = u->entry[ENTRY_PCT];
  c->kernel_saved = 0;
  if (c->pct_once)
    c->pct_from = PCT_NOBODY;
}

// Why e may not call c now, or 0 if it may: c must have registered a PCT
// entry, accept calls from e, and be runnable or asleep in pct_accept.
static long pct_refusal(struct env *e, struct env *c)
{
  if (c->uarea->entry[ENTRY_PCT] == 0)
    return -E_NOENTRY;
  if (c->pct_from == PCT_NOBODY || (c->pct_from != 0 && c->pct_from != e->pub->id))
    return -E_REFUSED;
  if (c->pub->status != ENV_RUNNABLE && !c->pct_sleeping)
    return -E_AGAIN;  // not started, or itself waiting
  return 0;
}

// e's synchronous call to c, which runs on another hart: e waits with the
// call queued, and c's hart, interrupted now, delivers it there
// (pct_take_queued). Does not return.
static __attribute__((noreturn)) void pct_queue(struct env *e, struct env *c)
{
  e->waiting_on = c->pub->id;
  e->pct_queued = 1;
  e->pub->status = ENV_NOT_RUNNABLE;
  c->pct_knock = 1;
  send_ipi(1UL << (c->running_on - 1));
  schedule();
}

// pct_call (sync) or pct_send (async) from e to the environment callee_id.
// On success the callee runs and this does not return; otherwise returns
// the error for the caller. A call to a callee running on another hart is
// queued for it there; a send to one answers -E_AGAIN (a send is
// delivered at once or not at all).
long pct_transfer(struct env *e, uint64 callee_id, int kind)
{
  struct env *c = callee_id <= 0xFFFFFFFFUL ? env_of(callee_id) : NULL;
  if (c == NULL || c == e)
    return -E_BADENV;
  long err = pct_refusal(e, c);
  if (err < 0)
    return err;
  if (env_running_elsewhere(c)) {
    if (kind != PCT_SYNC)
      return -E_AGAIN;
    pct_queue(e, c);
  }
  c->pct_sleeping = 0;
  c->pub->status = ENV_RUNNABLE;
  deliver(e, c, kind);
  if (kind == PCT_SYNC) {
    e->waiting_on = c->pub->id;
    e->pub->status = ENV_NOT_RUNNABLE;
  } else {
    e->tf.a0 = 0;
  }
  env_run(c);
}

// pct_accept: whose calls e accepts (from: 0 anyone, PCT_NOBODY none, else
// one id), one at a time with PCT_ONCE; with PCT_SLEEP, e then waits for a
// call without the processor (and this does not return).
long pct_accept(struct env *e, uint64 how)
{
  if (how >> 32 & ~((PCT_ONCE | PCT_SLEEP) >> 32))
    return -E_INVAL;
  e->pct_from = e->pct_armed = (uint32)how;
  e->pct_once = (how & PCT_ONCE) != 0;
  if (!(how & PCT_SLEEP))
    return 0;
  e->pct_sleeping = 1;
  e->pub->status = ENV_NOT_RUNNABLE;
  schedule();
}

// pct_reply from e to the environment caller_id, which must be waiting for
// e, its call delivered (not still queued: several harts): it resumes now
// with e's a0..a5 as its call's results (and e accepts calls again, if it
// accepts one at a time).
long pct_reply(struct env *e, uint64 caller_id)
{
  struct env *c = caller_id <= 0xFFFFFFFFUL ? env_of(caller_id) : NULL;
  if (c == NULL || c->waiting_on != e->pub->id || c->pct_queued)
    return -E_NOTWAITING;
  copy_message(&c->tf, &e->tf);
  if (e->pct_once)
    e->pct_from = e->pct_armed;
  c->waiting_on = 0;
  c->pub->status = ENV_RUNNABLE;
  e->tf.a0 = 0;
  env_run(c);
}

// Calls are queued for c, on this hart, where c was just interrupted or has
// just stopped running: deliver the first that c may take (c runs it when
// it next runs here or anywhere), answer those before it that c may not
// take with their refusal, and leave the rest queued (for c's next
// interruption or stop). Several harts only.
void pct_take_queued(struct env *c)
{
  int delivered = 0;
  c->pct_knock = 0;
  for (int i = 0; i < NENV; i++) {
    struct env *q = &envs[i];
    if (!q->pct_queued || q->waiting_on != c->pub->id)
      continue;
    if (delivered) {
      c->pct_knock = 1;
      return;
    }
    q->pct_queued = 0;
    long err = pct_refusal(q, c);
    if (err < 0) {
      q->waiting_on = 0;
      q->tf.a0 = err;
      env_wake(q);
      continue;
    }
    if (c->pct_sleeping) {
      c->pct_sleeping = 0;
      env_wake(c);
    }
    deliver(q, c, PCT_SYNC);
    delivered = 1;
  }
}

// Environment e is being destroyed: every caller waiting for it (its call
// delivered or still queued) gets -E_BADENV instead of an answer.
void pct_callee_gone(struct env *e)
{
  for (int i = 0; i < NENV; i++)
    if (envs[i].waiting_on == e->pub->id) {
      envs[i].waiting_on = 0;
      envs[i].pct_queued = 0;
      envs[i].tf.a0 = -E_BADENV;
      env_wake(&envs[i]);
    }
}

// The environment a waiting caller's slices are donated to, or NULL.
struct env *pct_donee(struct env *e)
{
  struct env *c = e->waiting_on ? env_of(e->waiting_on) : NULL;
  return c != NULL && c->pub->status == ENV_RUNNABLE ? c : NULL;
}
