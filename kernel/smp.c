// Several harts: starting them, the kernel lock, and shootdowns.
//
// Locking. The kernel has one lock, and it protects all of the kernel's
// state: every table, every environment, the devices. A hart takes it on
// every entry from user mode (trap_user) and when it starts, and holds it
// until it returns to user mode (trap_return) or waits in wfi with nothing
// to run (sched.c's idle). So the kernel's code runs on one hart at a time,
// as it would with one hart, and needs no other lock. Interrupts are off
// whenever the kernel runs, so a hart never takes an interrupt holding the
// lock; taking it twice, or releasing it unheld, panics.
//
// While one hart is up (CPUS=1, the default) the lock does nothing, and the
// user trap vector (trapvec.S, uservec) takes fast paths for system calls,
// exceptions and PCT that never enter C: they cost what they did before
// there were several harts. With several harts up, every trap from user
// mode takes uservec_smp, the full path through trap_user().
//
// What several harts change, besides the lock:
//   - each hart has its own kernel stack, timer and slice vector (sched.c);
//   - an environment runs on one hart at a time (env->running_on); the
//     scheduler, PCT and directed yield pass over one running elsewhere;
//   - breaking a mapping may leave stale translations, tagged with the
//     environment's ASID, in the TLBs of the other harts. Each of them
//     fences that ASID itself before it next returns to the environment in
//     user mode (env->tlb_stale, trap_return). The hart running the
//     environment in user mode now (if another) is noted (smp.h,
//     tlb_note_remote), interrupted, and waited for until it has entered
//     the kernel (tlb_fence_remote, shoot_down), before the lock is
//     released or a page allocated: so before the call returns, and before
//     a freed page can be used again. The kernel itself never uses a user
//     translation. An ASID reused by a new environment is stale on every
//     other hart. Siblings (abi.h) share their owner's tables and ASID, so
//     a mapping broken there is noted for each of them (tlb_note_space);
//   - destroying an environment that runs on another hart marks it doomed
//     and interrupts that hart (an IPI), which destroys it when it
//     enters the kernel: its pages are never freed while it runs, nor
//     while a sibling runs on its tables (env_destroy).
// External interrupts (console, disk, network) go to the boot hart only.
// (Taking and releasing the lock, and the shootdowns, are lab smp's code.)

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

#define SBI_ERR_ALREADY_AVAILABLE (-6)  // HSM hart_start: the hart is not stopped

int smp_on;                        // more than one hart was started
uint64 harts_up_mask;              // the harts that are up (bit h: hart h)
uint64 fences_pending[MAXHARTS];  // by hart: the harts it must shoot down (tlb_note_remote)
static uint64 fence_waiters;       // harts waiting in shoot_down (bit h: hart h)
uint64 harts_idle_mask;
volatile uint8 hart_in_user[MAXHARTS];
int wake_wanted;
static volatile int harts_up;      // harts that have come up (the boot hart too)
static int go;                     // every hart is up: they may run environments
static volatile uint32 lock_word;  // the kernel lock: 0 free, else holder + 1
static volatile uint32 lock_next;  // 0, or the hart (+ 1) that takes the lock next
static uint64 lock_sleepers;       // harts waiting for the lock in wfi (bit h: hart h)
#define LOCK_SPINS 200             // how long a hart spins for the lock before it sleeps
#define LOCK_PATIENCE_US 1000      // how long a hart waits for it before it claims the next turn

// Each hart's kernel stack, the boot hart's too (entry.S).
char hart_stacks[MAXHARTS][KSTACKSIZE] __attribute__((aligned(16)));

// The top of this hart's kernel stack.
uint64 kstack_top(void)
{
  return (uint64)hart_stacks[r_tp()] + KSTACKSIZE;
}

// Waiting in wfi for another hart's IPI. wfi ends at any interrupt pending
// and enabled in sie, even with SIE off, so a timer interrupt due, or a
// soft one not yet taken, would turn the wait into a spin -- one that
// QEMU under -icount, which runs the harts in turn, lets run for seconds
// while the hart it waits for stands still. So for the wait only soft
// interrupts are enabled (the others stay pending, and are taken after),
// and a soft one already pending is taken off; ipi_wait_end puts back what
// ipi_wait_begin returned. The IPI that ended the wait stays pending, and
// the hart takes it (a short trap) once it enables interrupts: an IPI sent
// meanwhile for another reason (a call queued for the environment this
// hart runs, say) is never lost.
#define HAD_SOFT (1UL << 63)  // (not a bit of sie)
static uint64 ipi_wait_begin(void)
{
  uint64 was = csr_read(sie) | (csr_read(sip) & SIE_SSIE ? HAD_SOFT : 0);
  csr_write(sie, SIE_SSIE);
  csr_clear(sip, SIE_SSIE);
  return was;
}

static void ipi_wait_end(uint64 was)
{
  if (was & HAD_SOFT)
    csr_set(sip, SIE_SSIE);
  csr_write(sie, was & ~HAD_SOFT);
}

// May hart `me` (its lock_word value) take the kernel lock now: is it free,
// and not claimed by another hart?
static inline int lock_open_to(uint32 me)
{
  uint32 next = __atomic_load_n(&lock_next, __ATOMIC_SEQ_CST);
  return __atomic_load_n(&lock_word, __ATOMIC_SEQ_CST) == 0 && (next == 0 || next == me);
}

// If hart `me` has waited for the kernel lock LOCK_PATIENCE_US since
// *since (its first sleep for it; 0: not yet, and now is noted), claim the
// next turn (lock_next), unless another hart has: else a hart looping
// system calls could take the lock back each time before a woken one ran,
// and starve it (and its timer's interrupt) for good -- under -icount,
// where QEMU runs the harts in turn, it did.
static void claim_turn_if_patient(uint64 *since, uint32 me)
{
  if (*since == 0) {
    *since = rdtime();
  } else if (rdtime() - *since > bootinfo.timebase_hz / 1000000 * LOCK_PATIENCE_US) {
    uint32 none = 0;
    __atomic_compare_exchange_n(&lock_next, &none, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
  }
}

// Take the kernel lock, with several harts up (kernel_lock in smp.h). A
// hart that finds it held spins a little, then sleeps in wfi until the
// holder releases it: QEMU runs each hart on a thread of the host, and a
// host with fewer processors than harts would otherwise spend its time
// running harts that spin while the holder waits to run. Whoever gets to
// a free lock first takes it (cheap: the host thread that runs takes it),
// but a hart that has slept and waited LOCK_PATIENCE_US claims the next
// turn (claim_turn_if_patient).
void kernel_lock_smp(void)
{
  uint64 hart = r_tp();
  uint32 me = hart + 1;
  if (lock_word == me)
    panic("hart %d takes the kernel lock it holds", (int)hart);
  if (csr_read(sstatus) & SSTATUS_SIE)
    panic("hart %d takes the kernel lock with interrupts on", (int)hart);
  int held = !lock_open_to(me);  // (counted in sysinfo->lock_waits once it is ours)
  // LAB smp: spin LOCK_SPINS looks; take it when open (compare-and-swap); else sleep until released
  uint64 since = 0;  // rdtime when this hart first went to sleep for it
  for (;;) {
    for (int i = 0; i < LOCK_SPINS && !lock_open_to(me); i++)
      ;
    uint32 free = 0;
    if (lock_open_to(me)) {
      if (__atomic_compare_exchange_n(&lock_word, &free, me, 0, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED))
        break;
      continue;  // another hart took it first: spin again
    }
    claim_turn_if_patient(&since, me);
    // Say we sleep, then look again: the holder either sees us and sends
    // an IPI, or released it before we looked (both orders are total).
    __atomic_fetch_or(&lock_sleepers, 1UL << hart, __ATOMIC_SEQ_CST);
    uint64 was = ipi_wait_begin();
    if (!lock_open_to(me))
      asm volatile("wfi");
    ipi_wait_end(was);
    __atomic_fetch_and(&lock_sleepers, ~(1UL << hart), __ATOMIC_RELAXED);
  }
  // END LAB smp
  if (lock_next == me)
    __atomic_store_n(&lock_next, 0, __ATOMIC_RELAXED);  // (others see the lock held)
  sysinfo->lock_waits += held;
}

// Release the kernel lock, with several harts up, after fencing the other
// harts' TLBs for the mappings this hart broke while it held it, and
// waking an idle hart if an environment became runnable meanwhile.
void kernel_unlock_smp(void)
{
  uint64 me = r_tp();
  if (lock_word != me + 1)
    panic("hart %d releases the kernel lock it does not hold", (int)me);
  tlb_fence_remote();
  uint64 idle = harts_idle_mask & ~(1UL << me);
  if (wake_wanted && idle != 0)
    send_ipi(idle & -idle);  // the lowest idle hart
  wake_wanted = 0;
  // LAB smp: release it; wake every hart asleep for it
  __atomic_store_n(&lock_word, 0, __ATOMIC_SEQ_CST);
  uint64 sleepers = __atomic_load_n(&lock_sleepers, __ATOMIC_SEQ_CST);
  if (sleepers != 0)
    send_ipi(sleepers);  // all of them (waking only one let another sleep on for ever)
  // END LAB smp
}

// Interrupt the harts in `harts` (each runs, in user mode, an environment
// whose mapping this hart broke) and wait until each has entered the
// kernel: it fences its TLB before it returns (trap_return).
static void shoot_down(uint64 me, uint64 harts)
{
  // LAB smp: IPI the harts; sleep (fence_waiters, ipi_wait_*) until each has left user mode
  // HANDOUT: (void)me, (void)harts;
  send_ipi(harts);
  for (int h = 0; h < MAXHARTS; h++) {
    while ((harts & (1UL << h)) && __atomic_load_n(&hart_in_user[h], __ATOMIC_SEQ_CST)) {
      // As in kernel_lock_smp: say we sleep, then look again (user_left).
      __atomic_fetch_or(&fence_waiters, 1UL << me, __ATOMIC_SEQ_CST);
      uint64 was = ipi_wait_begin();
      if (__atomic_load_n(&hart_in_user[h], __ATOMIC_SEQ_CST))
        asm volatile("wfi");
      ipi_wait_end(was);
      __atomic_fetch_and(&fence_waiters, ~(1UL << me), __ATOMIC_RELAXED);
    }
  }
  // END LAB smp
}

// Shoot down the translations noted by tlb_note_remote (shoot_down), check
// that no hart noted is in user mode any longer, and count it.
void tlb_fence_remote(void)
{
  uint64 me = r_tp(), harts = fences_pending[me];
  if (harts == 0)
    return;
  fences_pending[me] = 0;
  shoot_down(me, harts);
  for (int h = 0; h < MAXHARTS; h++) {
    if (!(harts & (1UL << h)))
      continue;
    // (It cannot go back to user mode before this hart releases the lock.)
    if (__atomic_load_n(&hart_in_user[h], __ATOMIC_SEQ_CST))
      panic("shootdown: hart %d still in user mode, with the old translations", h);
    sysinfo->shootdown_harts++;
  }
  sysinfo->shootdowns++;
}

// tlb_note_remote for the other environments that run on e's tables (e's
// owner and siblings, or its own siblings): they share its ASID.
void tlb_note_siblings(struct env *e)
{
  uint32 space = e->space_owner ? e->space_owner : e->pub->id;
  for (int i = 0; i < NENV; i++) {
    struct env *s = &envs[i];
    if (s != e && s->pub->status != ENV_FREE && (s->pub->id == space || s->space_owner == space))
      tlb_note_remote(s);
  }
}

// This hart has left user mode (a trap): say so, and wake the harts
// waiting in shoot_down for that. Called before the kernel lock.
void user_left(void)
{
  // LAB smp: this hart's hart_in_user cleared; an IPI to the fence_waiters, if any
  __atomic_store_n(&hart_in_user[r_tp()], 0, __ATOMIC_SEQ_CST);
  uint64 waiters = __atomic_load_n(&fence_waiters, __ATOMIC_SEQ_CST);
  if (waiters != 0)
    send_ipi(waiters);
  // END LAB smp
}

// Wait in wfi for a tenth of a millisecond or less (a timer interrupt,
// left pending until the timer is next set, ends the wait), before looking
// again at what another hart is to do. Not a spin: under -icount QEMU runs
// the harts in turn, and a hart spinning with no timer set keeps its turn
// for 2^31 instructions (two seconds of the machine's time).
static void nap(void)
{
  set_timer(rdtime() + bootinfo.timebase_hz / 10000);
  asm volatile("wfi");
}

// The first code in C of a hart other than the boot hart, started by
// smp_start with this hart's stack; paging is on with the boot page table.
void kmain_hart(uint64 hartid)
{
  csr_write(satp, MAKE_SATP(kernel_root(), 0));
  sfence_vma_all();
  trap_init();
  kernel_lock();
  printf("rvexo: hart %d up\n", (int)hartid);
  if (bootinfo.sstc && !stimecmp_usable()) {
    bootinfo.sstc = 0;  // (the firmware sets the timer for every hart from now on)
    printf("rvexo: hart %d cannot use stimecmp: timers through the firmware\n", (int)hartid);
  }
  ktest_run_hart();
  harts_up++;
  harts_up_mask |= 1UL << hartid;
  kernel_unlock();
  while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
    nap();
  kernel_lock();
  sched_start();
}

// Start every other hart of the device tree (up to MAXHARTS), wait until
// they are up, then let them run environments. Called by the boot hart
// once the first environment exists.
void smp_start(void)
{
  extern char _start_hart[];
  if (bootinfo.nharts == 1)
    return;
  smp_on = 1;
  harts_up = 1;
  harts_up_mask = 1UL << bootinfo.boot_hart;
  int started = 1;
  extern uint32 harts_may_enter;
  __atomic_store_n(&harts_may_enter, 1, __ATOMIC_RELEASE);  // (for entry.S's late_hart)
  for (int h = 0; h < MAXHARTS && h < bootinfo.nharts; h++) {
    if (h == bootinfo.boot_hart)
      continue;
    uint64 top = (uint64)hart_stacks[h] + KSTACKSIZE;
    long err = sbi_hart_start(h, PADDR(_start_hart), top);
    if (err == 0 || err == SBI_ERR_ALREADY_AVAILABLE)  // (the latter comes in through _start)
      started++;
    else
      printf("rvexo: hart %d did not start (SBI error %ld)\n", h, err);
  }
  if (bootinfo.nharts > MAXHARTS)
    printf("rvexo: harts %d and above stay in the firmware\n", MAXHARTS);
  uint64 until = rdtime() + bootinfo.timebase_hz;
  while (harts_up < started && rdtime() < until)
    nap();
  if (harts_up < started)
    printf("rvexo: only %d of %d harts came up\n", harts_up, started);
  started = harts_up;
  sysinfo->harts_up = started;
  __atomic_store_n(&go, 1, __ATOMIC_RELEASE);  // (after harts_up, for the harts that read go)
}
