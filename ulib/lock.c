// ExOS's critical sections, and its lock for programs that run on several
// harts at once.
//
// A critical section is ExOS code that no asynchronous upcall may
// interrupt, and so no other thread of the program's (exos_critical_enter
// and _leave, ulib/ulib.h). On the program's own processor, its
// environment, the count is exos_critical, which the kernel reads before
// each upcall (ENTRY_CRITICAL). That is enough while the program runs on
// one hart at a time.
//
// Hart threads (thread.c, thread_create_on) run beside the program on other
// harts, each alone in a sibling environment (the same tables). Once one
// exists (exos_hart_threads), a section must exclude them too: each
// processor counts its sections, and holds exos_lock, a spinlock, while its
// count is not 0 (exos_shared_enter and _leave). A hart thread's count is
// in exos_harts[slot], found from sp, which is always on the thread's stack
// or exception stack, in its slot's span (ulib/exos.h). On the program's
// own processor a thread switch carries the lock: a thread switched away
// inside a section leaves it held for the thread resumed, and xentry.S's
// resume lets it go for a thread resumed outside any (exos_thread_resume).
// Upcalls raise the count in assembly and take the lock in C
// (exos_upcall_lock).

#include "ulib.h"
#include "ulib/exos.h"

EXOS_STATE volatile unsigned long exos_critical;
volatile int exos_hart_threads;
volatile int exos_lock;                     // 1 while a processor holds it
volatile unsigned long exos_sections_done;  // sections ended, under the lock
struct exos_hart exos_harts[EXOS_MAXTHREADS];

_Static_assert(sizeof(struct exos_hart) == EXOS_HART_SIZE, "EXOS_HART_SIZE");

// The slot of the hart thread whose code this is, or -1: the program's
// own processor (or no hart thread yet).
int exos_hart_slot(void)
{
  unsigned long sp;
  asm("mv %0, sp" : "=r"(sp));
  unsigned long off = sp - EXOS_TSTACKS;
  if (!exos_hart_threads || sp < EXOS_TSTACKS || off >= EXOS_MAXTHREADS * EXOS_TSTACK_SPAN)
    return -1;
  int slot = off >> EXOS_TSTACK_SHIFT;
  return exos_harts[slot].in_use ? slot : -1;
}

// This processor's count of critical sections.
volatile unsigned long *exos_critical_count(void)
{
  int slot = exos_hart_slot();
  return slot >= 0 ? &exos_harts[slot].critical : &exos_critical;
}

// Take ExOS's lock, spinning; now and then give the hart away, should the
// holder's environment be waiting for one.
void exos_lock_take(void)
{
  for (int n = 1; __atomic_exchange_n(&exos_lock, 1, __ATOMIC_ACQUIRE) != 0; n++)
    if (n % 64 == 0)
      sys_yield(0);
}

void exos_lock_release(void)
{
  __atomic_store_n(&exos_lock, 0, __ATOMIC_RELEASE);
}

// exos_critical_enter and _leave once the program has hart threads: count
// the section on this processor, holding ExOS's lock while the count is
// not 0.
void exos_shared_enter(void)
{
  volatile unsigned long *count = exos_critical_count();
  if ((*count)++ == 0)
    exos_lock_take();
}

void exos_shared_leave(void)
{
  volatile unsigned long *count = exos_critical_count();
  if (*count == 1) {
    exos_sections_done++;
    exos_lock_release();
  }
  (*count)--;
}

// For an upcall's C code, whose entry raised this processor's count: take
// ExOS's lock if the program has hart threads and the upcall began the
// section (the count was 0). Returns whether it did, for exos_upcall_unlock.
int exos_upcall_lock(void)
{
  if (!exos_hart_threads || *exos_critical_count() != 1)
    return 0;
  exos_lock_take();
  return 1;
}

void exos_upcall_unlock(int took)
{
  if (took)
    exos_lock_release();
}
