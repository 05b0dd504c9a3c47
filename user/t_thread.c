// t_thread: ExOS's threads (ulib/thread.c): create, join, exit and yield,
// preemption through the prologue and epilogue upcalls, register-exact
// resumption, mutexes, exceptions inside threads, and, in forked children,
// the reports for a deadlock and for a thread's stack overflow.

#include "user/tsupport.h"
#include "ulib/exos.h"

#define NADDERS 4
#define ADDS    150  // increments per adder thread

// Timer ticks in ms milliseconds.
static unsigned long ticks(unsigned long ms)
{
  return SYSINFO->timebase_hz / 1000 * ms;
}

// Spin for n iterations of an empty loop.
static void delay(unsigned long n)
{
  for (volatile unsigned long i = 0; i < n; i++)
    ;
}

// ---------------------------------------------------------------- (a) create and join

struct work {
  long n, sum;
  int tid;
};

// Sum 1..n into the work record, noting who did it.
static void sum_to(void *arg)
{
  struct work *w = arg;
  long s = 0;
  for (long i = 1; i <= w->n; i++)
    s += i;
  w->tid = thread_self();
  w->sum = s;
}

// Do nothing at all.
static void nothing(void *arg) {}

// ---------------------------------------------------------------- (b) preemption

static volatile unsigned long spins[2], spins_seen[2], spin_stop;
// Thread 1's preemptions, epilogues and switches in all, at the middle
// and at the end of the run.
static volatile unsigned long main_mid = -1UL, main_end = -2UL, epi_mid, epi_end, sw_mid, sw_end;
static unsigned long spin_mid, spin_deadline;

// Count without ever yielding until the deadline passes; the first thread
// to see it notes both counts at that moment and stops both. Note the
// counters at the middle of the run (by then thread 1 has long been
// blocked in thread_join) and at the end.
static void spinner(void *arg)
{
  long me = (long)arg;
  while (!spin_stop) {
    spins[me]++;
    if ((spins[me] & 1023) != 0)
      continue;
    unsigned long now = sys_uptime();
    exos_critical_enter();  // the snapshots must not be split by a preemption
    if (now >= spin_mid && main_mid == -1UL) {
      epi_mid = exos_thread_epilogues;
      sw_mid = exos_thread_switches;
      main_mid = thread_preemptions(1);
    }
    if (now >= spin_deadline && !spin_stop) {
      spins_seen[0] = spins[0];
      spins_seen[1] = spins[1];
      epi_end = exos_thread_epilogues;
      sw_end = exos_thread_switches;
      main_end = thread_preemptions(1);
      spin_stop = 1;
    }
    exos_critical_leave();
  }
}

static volatile unsigned long yields_seen, yield_stop;

// Give the processor back (yield(0)) 20 times, counting the times the
// spinner moved on meanwhile: the prologue saves this thread's live
// registers and runs the other thread first.
static void yielder(void *arg)
{
  for (int i = 0; i < 20; i++) {
    unsigned long before = spins[0];
    sys_yield(0);
    yields_seen += spins[0] != before;
  }
  spin_stop = 1;
}

// ---------------------------------------------------------------- (c) register-exactness

// regs_a() and regs_b(): give every register but sp and gp a value of its
// own (x_n = seed + n * 0x0101010101010101, a different seed for each),
// then compare them all, using sp as the only scratch register, over and
// over until regs_stop is set. Returns 0, or 1 after storing every register
// in regs_X_dump at the first mismatch. No call, no stack: a preemption
// anywhere in the loop must give back every value exactly.
int regs_a(void), regs_b(void);
volatile unsigned long regs_stop;
unsigned long regs_a_dump[32], regs_b_dump[32];
#define SEED_A          0x1000000000000000  // no suffix: the assembler reads it too
#define SEED_B          0x2000000000000000
#define REGVAL(seed, n) ((seed) + (n)*0x0101010101010101UL)
asm(".macro REGLOOP name, seed\n"
    ".pushsection .bss\n"
    ".p2align 3\n"
    "\\name\\()_save: .space 120\n"
    ".popsection\n"
    ".globl \\name\n"
    "\\name:\n"
    "  la t0, \\name\\()_save\n"
    "  sd ra, 0(t0); sd sp, 8(t0); sd tp, 16(t0); sd s0, 24(t0); sd s1, 32(t0)\n"
    "  sd s2, 40(t0); sd s3, 48(t0); sd s4, 56(t0); sd s5, 64(t0); sd s6, 72(t0)\n"
    "  sd s7, 80(t0); sd s8, 88(t0); sd s9, 96(t0); sd s10, 104(t0); sd s11, 112(t0)\n"
    "  .irp n, 1,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  li x\\n, (\\seed + \\n * 0x0101010101010101)\n"
    "  .endr\n"
    "1:\n"
    "  .irp n, 1,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  li sp, (\\seed + \\n * 0x0101010101010101)\n"
    "  bne x\\n, sp, 8f\n"
    "  .endr\n"
    "  la sp, regs_stop\n"
    "  ld sp, 0(sp)\n"
    "  beqz sp, 1b\n"
    "  li a0, 0\n"
    "  j 9f\n"
    "8:la sp, \\name\\()_dump\n"
    "  .irp n, 1,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  sd x\\n, (8 * \\n)(sp)\n"
    "  .endr\n"
    "  li a0, 1\n"
    "9:la t0, \\name\\()_save\n"
    "  ld ra, 0(t0); ld sp, 8(t0); ld tp, 16(t0); ld s0, 24(t0); ld s1, 32(t0)\n"
    "  ld s2, 40(t0); ld s3, 48(t0); ld s4, 56(t0); ld s5, 64(t0); ld s6, 72(t0)\n"
    "  ld s7, 80(t0); ld s8, 88(t0); ld s9, 96(t0); ld s10, 104(t0); ld s11, 112(t0)\n"
    "  ret\n"
    ".endm\n");
asm("REGLOOP regs_a, " XSTR(SEED_A));
asm("REGLOOP regs_b, " XSTR(SEED_B));

static volatile long regs_result[2] = {-1, -1};

// Run regs_a or regs_b (arg 0 or 1) and keep its result.
static void regs_thread(void *arg)
{
  long which = (long)arg;
  regs_result[which] = which == 0 ? regs_a() : regs_b();
}

// The first register whose dumped value is wrong (2: none, so sp, the
// scratch register, was).
static long first_bad_register(const unsigned long *dump, unsigned long seed)
{
  for (int n = 1; n < 32; n++)
    if (n != 2 && n != 3 && dump[n] != REGVAL(seed, n))
      return n;
  return 2;
}

// yield_regs(seed): give tp and s0..s11 the values seed + n (n: the
// register's number), call thread_yield(), and return how many of them came
// back changed. Keeps every register the calling convention says it must.
// A thread switch from C must give back all that a call keeps.
long yield_regs(unsigned long seed);
asm(".globl yield_regs\n"
    "yield_regs:\n"
    "  addi sp, sp, -128\n"
    "  sd ra, 0(sp); sd tp, 8(sp); sd s0, 16(sp); sd s1, 24(sp); sd s2, 32(sp)\n"
    "  sd s3, 40(sp); sd s4, 48(sp); sd s5, 56(sp); sd s6, 64(sp); sd s7, 72(sp)\n"
    "  sd s8, 80(sp); sd s9, 88(sp); sd s10, 96(sp); sd s11, 104(sp); sd a0, 112(sp)\n"
    "  .irp n, 4,8,9,18,19,20,21,22,23,24,25,26,27\n"
    "  addi x\\n, a0, \\n\n"
    "  .endr\n"
    "  call thread_yield\n"
    "  li a0, 0\n"
    "  ld t0, 112(sp)\n"
    "  .irp n, 4,8,9,18,19,20,21,22,23,24,25,26,27\n"
    "  addi t1, t0, \\n\n"
    "  beq x\\n, t1, 1f\n"
    "  addi a0, a0, 1\n"
    "1:\n"
    "  .endr\n"
    "  ld ra, 0(sp); ld tp, 8(sp); ld s0, 16(sp); ld s1, 24(sp); ld s2, 32(sp)\n"
    "  ld s3, 40(sp); ld s4, 48(sp); ld s5, 56(sp); ld s6, 64(sp); ld s7, 72(sp)\n"
    "  ld s8, 80(sp); ld s9, 88(sp); ld s10, 96(sp); ld s11, 104(sp)\n"
    "  addi sp, sp, 128\n"
    "  ret\n");

static volatile long yield_changed;

// Yield 100 times with tp and s0..s11 set to values of this thread's own
// (arg picks them), adding up the registers that came back changed.
static void yield_regs_thread(void *arg)
{
  for (int i = 0; i < 100; i++)
    yield_changed += yield_regs((long)arg << 32);
}

// ---------------------------------------------------------------- (d) mutex

static struct mutex counter_lock;
static volatile unsigned long counter;
static int adders_lock;
static unsigned long adders_delay;

// Increment counter ADDS times, each by a load, a delay and a store; under
// counter_lock if adders_lock is set.
static void adder(void *arg)
{
  for (int i = 0; i < ADDS; i++) {
    if (adders_lock)
      mutex_lock(&counter_lock);
    unsigned long v = counter;
    delay(adders_delay);
    counter = v + 1;
    if (adders_lock)
      mutex_unlock(&counter_lock);
  }
}

// Run NADDERS adders (with the mutex or without) to the end; returns the
// count they reached, or -1 if a create or join failed.
static long run_adders(int lock, unsigned long delay_iters)
{
  int tids[NADDERS];
  long ok = 1;
  counter = 0;
  adders_lock = lock;
  adders_delay = delay_iters;
  for (int i = 0; i < NADDERS; i++)
    ok &= (tids[i] = thread_create(adder, NULL)) > 0;
  for (int i = 0; i < NADDERS; i++)
    ok &= thread_join(tids[i]) == 0;
  return ok ? (long)counter : -1;
}

static struct mutex pair_lock;
static volatile long other_unlock;

// Try to unlock pair_lock, which the main thread holds.
static void unlock_others(void *arg)
{
  other_unlock = mutex_unlock(&pair_lock);
}

// ---------------------------------------------------------------- (d2) a fair mutex

#define NFAIR 3
static struct mutex fair_lock;
static volatile long fair_turn;  // which waiter may queue now (its place: 1, 2, ...)
static volatile int fair_queued, fair_order[NFAIR + 1], fair_got;

// Wait for its turn (arg: its place in the queue), then queue on
// fair_lock; note when it gets it, and release it.
static void fair_waiter(void *arg)
{
  while (fair_turn != (long)arg)
    thread_yield();
  fair_queued++;
  mutex_lock(&fair_lock);
  fair_order[fair_got++] = thread_self();
  mutex_unlock(&fair_lock);
}

// Thread 1 holds fair_lock while NFAIR threads queue on it one by one, in
// an order that is neither their slot order nor its reverse; waiting, they
// must not run. Then thread 1 unlocks and at once locks again: the mutex
// must go to the waiters in the order they came, thread 1 last.
static void fair_mutex(void)
{
  static const long place[NFAIR] = {2, 3, 1};  // the queue: the third thread, first, second
  int tids[NFAIR], want[NFAIR + 1];
  mutex_init(&fair_lock);
  mutex_lock(&fair_lock);
  for (int i = 0; i < NFAIR; i++) {
    tids[i] = thread_create(fair_waiter, (void *)place[i]);
    want[place[i] - 1] = tids[i];
  }
  want[NFAIR] = thread_self();
  for (long turn = 1; turn <= NFAIR; turn++) {
    fair_turn = turn;
    for (int i = 0; i < 1000 && fair_queued < turn; i++)
      thread_yield();
    for (int i = 0; i < 3; i++)
      thread_yield();  // it goes on into mutex_lock, and blocks there
  }
  check("three threads queued on a held mutex", fair_queued, NFAIR);
  unsigned long sw0 = exos_thread_switches, ep0 = exos_thread_epilogues;
  unsigned long end = sys_uptime() + ticks(20);
  while ((unsigned long)sys_uptime() < end)
    ;
  printf("while they waited: %lu epilogues, %lu switches\n", exos_thread_epilogues - ep0,
         exos_thread_switches - sw0);
  check("threads waiting for a mutex do not run (no switch in 20 ms of preemptions)",
        exos_thread_epilogues - ep0 >= 5 && exos_thread_switches == sw0, 1);
  mutex_unlock(&fair_lock);
  mutex_lock(&fair_lock);  // behind the waiters
  fair_order[fair_got++] = thread_self();
  mutex_unlock(&fair_lock);
  for (int i = 0; i < NFAIR; i++)
    thread_join(tids[i]);
  int fifo = fair_got == NFAIR + 1;
  for (int i = 0; i <= NFAIR; i++)
    fifo &= fair_order[i] == want[i];
  printf("the mutex went to threads %d %d %d %d; they came in as %d %d %d, then %d\n",
         fair_order[0], fair_order[1], fair_order[2], fair_order[3], want[0], want[1], want[2],
         want[3]);
  check("the unlocking thread cannot take the mutex back before its waiters",
        fair_order[0] != thread_self(), 1);
  check("the mutex goes to the longest waiter each time (first come, first served)", fifo, 1);
}

// ---------------------------------------------------------------- (e) join at once

static volatile int quick_done;

// Finish at once, noting that it ran.
static void quick(void *arg)
{
  quick_done = 1;
}

// ---------------------------------------------------------------- (f) exceptions

#define TOUCH_PAGES 16
static char *lazy;
static volatile int breakpoints, touch_ok[NADDERS];

// Count a breakpoint and skip it.
static int on_breakpoint(struct xframe *f)
{
  breakpoints++;
  f->pc += 4;
  return 1;
}

// Fault in TOUCH_PAGES pages of the lazy heap region (arg: which quarter),
// with delays so that the others are preempted meanwhile; take a breakpoint;
// churn malloc and free; then check what was written.
static void toucher(void *arg)
{
  long me = (long)arg;
  char *mine = lazy + me * TOUCH_PAGES * PGSIZE;
  for (int p = 0; p < TOUCH_PAGES; p++) {
    mine[p * PGSIZE + me] = 'a' + p;
    delay(adders_delay);
  }
  asm volatile(".4byte 0x00100073");  // ebreak
  int ok = 1;
  for (int round = 0; round < 20; round++) {
    char *blocks[8];
    for (int i = 0; i < 8; i++) {
      size_t n = 16 + (me * 131 + round * 17 + i * 53) % 3000;
      blocks[i] = malloc(n);
      if (blocks[i] == NULL) {
        ok = 0;
        continue;
      }
      memset(blocks[i], me + i, n);
      delay(adders_delay / 8);
      ok &= blocks[i][n - 1] == me + i && blocks[i][0] == me + i;
    }
    for (int i = 0; i < 8; i++)
      free(blocks[i]);
  }
  for (int p = 0; p < TOUCH_PAGES; p++)
    ok &= mine[p * PGSIZE + me] == 'a' + p && mine[p * PGSIZE + me + 1] == 0;
  touch_ok[me] = ok;
}

// ---------------------------------------------------------------- (g) reports, in children

static struct mutex lock_one, lock_two;
static volatile int second_holds;

// Take lock_one, then (once the other thread holds lock_two) lock_two.
static void one_then_two(void *arg)
{
  mutex_lock(&lock_one);
  while (!second_holds)
    thread_yield();
  mutex_lock(&lock_two);
}

// Take lock_two, then lock_one: with one_then_two, a deadlock.
static void two_then_one(void *arg)
{
  mutex_lock(&lock_two);
  second_holds = 1;
  mutex_lock(&lock_one);
}

static volatile int depth_limit = 1 << 30;  // volatile: GCC must not prove it endless

// Recurse without end (as far as GCC can tell), 256 bytes a level.
static int __attribute__((noinline)) recurse(int n)
{
  volatile char pad[256];
  pad[0] = n;
  return n < depth_limit ? recurse(n + 1) + pad[0] : 0;
}

// Overflow this thread's stack.
static void overflow(void *arg)
{
  recurse(0);
}

// Fork a child that runs fn(), and return its exit status (-100 on
// failure, -200 if it still ran after 2 s: it was killed then).
static int in_child(void (*fn)(void))
{
  int pid = fork(), status = -100;
  if (pid == 0) {
    fn();
    exit(0);
  }
  unsigned long end = sys_uptime() + ticks(2000);
  while (pid > 0 && ENVINFO(pid)->id == (unsigned int)pid && (unsigned long)sys_uptime() < end)
    sys_yield(pid);
  if (pid > 0 && ENVINFO(pid)->id == (unsigned int)pid) {
    printf("t_thread: the child still runs after 2 s: killed\n");
    kill(pid);
    waitpid(pid, &status);
    return -200;
  }
  if (pid < 0 || waitpid(pid, &status) != pid)
    return -100;
  return status;
}

// In a child: two threads deadlock while thread 1 joins one of them.
static void deadlock_child(void)
{
  mutex_init(&lock_one);
  mutex_init(&lock_two);
  int a = thread_create(one_then_two, NULL);
  thread_create(two_then_one, NULL);
  thread_join(a);
}

// In a child: a thread overflows its stack while thread 1 joins it.
static void overflow_child(void)
{
  thread_join(thread_create(overflow, NULL));
}

// Outlive thread 1, join it, and end the program with status 42.
static void last_one(void *arg)
{
  for (int i = 0; i < 3; i++)
    thread_yield();
  exit(thread_join(1) == 0 ? 42 : 1);
}

// In a child: thread 1 exits, leaving last_one to end the program.
static void main_exits_child(void)
{
  thread_create(last_one, NULL);
  thread_exit();
}

// ---------------------------------------------------------------- main

// Run the checks (a) to (g) in order and report.
int main(int argc, char **argv)
{
  // (a) Threads are created, run and are joined; each returns its work.
  check("the first thread is thread 1", thread_self(), 1);
  struct work w[4];
  int tids[4], distinct = 1;
  for (int i = 0; i < 4; i++) {
    w[i] = (struct work){.n = 1000 * (i + 1)};
    tids[i] = thread_create(sum_to, &w[i]);
    distinct &= tids[i] > 1 && (i == 0 || tids[i] > tids[i - 1]);
  }
  check("four threads created with ids of their own", distinct, 1);
  int joined = 0, right = 0;
  for (int i = 0; i < 4; i++) {
    joined += thread_join(tids[i]) == 0;
    right += w[i].sum == w[i].n * (w[i].n + 1) / 2 && w[i].tid == tids[i];
  }
  check("all four joined", joined, 4);
  check("each ran in its own thread and returned its sum", right, 4);
  check("a null function is refused", thread_create(NULL, NULL), -E_INVAL);
  unsigned long free0 = SYSINFO->nfree;
  for (int i = 0; i < 50; i++)
    thread_join(thread_create(nothing, NULL));
  check("50 create/join cycles leak no page", SYSINFO->nfree, free0);
  stop_if_failed("t_thread");

  // (b) Preemption: two threads that never yield both make progress while
  // the first thread waits in thread_join.
  unsigned long e0 = exos_thread_epilogues, p0 = exos_thread_prologues, s0 = exos_thread_switches;
  spin_mid = sys_uptime() + ticks(50);
  spin_deadline = spin_mid + ticks(250);
  int sa = thread_create(spinner, (void *)0), sb = thread_create(spinner, (void *)1);
  thread_join(sa);
  thread_join(sb);
  unsigned long epi = exos_thread_epilogues - e0, pro = exos_thread_prologues - p0,
                sw = exos_thread_switches - s0;
  printf("spinners counted %lu and %lu in 300 ms; %lu epilogues, %lu prologues, %lu switches\n",
         spins_seen[0], spins_seen[1], epi, pro, sw);
  check("both spinners progressed without yielding", spins_seen[0] > 0 && spins_seen[1] > 0, 1);
  check("epilogues preempted them", epi >= 20, 1);
  check("prologues switched between them", pro >= 20 && sw >= 20, 1);
  // Were thread 1 to poll instead of blocking, it would run, or switch to a
  // spinner itself. (An epilogue the kernel held off, in a critical section,
  // is a preemption without a switch: hence at most, not exactly.)
  check("the thread waiting in thread_join did not run: each switch was a preemption",
        main_end == main_mid && sw_end - sw_mid <= epi_end - epi_mid && epi_end > epi_mid, 1);
  stop_if_failed("t_thread");
  spin_stop = 0;
  spin_deadline = sys_uptime() + ticks(1000);  // the yielder stops the spinner long before
  sa = thread_create(spinner, (void *)0);
  sb = thread_create(yielder, NULL);
  thread_join(sb);
  thread_join(sa);
  check("a thread that yields the processor lets the others run first", yields_seen >= 15, 1);
  stop_if_failed("t_thread");

  // (c) Register-exactness: two threads check every register in a loop
  // while they are preempted again and again.
  int ra = thread_create(regs_thread, (void *)0), rb = thread_create(regs_thread, (void *)1);
  unsigned long limit = sys_uptime() + ticks(3000), pa = 0, pb = 0;
  while ((pa < 100 || pb < 100) && (unsigned long)sys_uptime() < limit) {
    thread_yield();
    pa = thread_preemptions(ra);
    pb = thread_preemptions(rb);
  }
  regs_stop = 1;
  thread_join(ra);
  thread_join(rb);
  printf("register loops preempted %lu and %lu times\n", pa, pb);
  check("register loops were preempted 100 times each", pa >= 100 && pb >= 100, 1);
  check("every register survived preemption (loop A)",
        regs_result[0] == 0 ? 0 : first_bad_register(regs_a_dump, SEED_A), 0);
  check("every register survived preemption (loop B)",
        regs_result[1] == 0 ? 0 : first_bad_register(regs_b_dump, SEED_B), 0);
  stop_if_failed("t_thread");
  unsigned long ys = exos_thread_switches;
  ra = thread_create(yield_regs_thread, (void *)1);
  rb = thread_create(yield_regs_thread, (void *)2);
  thread_join(ra);
  thread_join(rb);
  check("threads switched by thread_yield", exos_thread_switches - ys >= 200, 1);
  check("every register a call keeps survived thread_yield (registers changed)", yield_changed, 0);
  stop_if_failed("t_thread");

  // (d) A mutex: without it, preempted read-delay-write increments lose
  // updates; with it, none are lost.
  unsigned long n = 1 << 12, t0 = sys_uptime();
  while ((unsigned long)sys_uptime() - t0 < ticks(4)) {  // about 0.2 ms per increment
    n *= 2;
    t0 = sys_uptime();
    delay(n);
  }
  unsigned long per_add = n / 20 + 1;
  long total = 0, lost = 0;
  for (int attempt = 0; attempt < 3 && lost == 0; attempt++) {
    total = run_adders(0, per_add << attempt);
    lost = NADDERS * ADDS - total;
  }
  printf("without the mutex: %ld of %d increments lost\n", lost, NADDERS * ADDS);
  check("without the mutex, updates are lost", total >= 0 && lost > 0, 1);
  mutex_init(&counter_lock);
  unsigned long m0 = exos_thread_switches, me0 = exos_thread_epilogues;
  total = run_adders(1, per_add);
  printf("with the mutex: %ld increments, %lu switches, %lu epilogues\n", total,
         exos_thread_switches - m0, exos_thread_epilogues - me0);
  check("with the mutex, exactly the expected total", total, NADDERS * ADDS);
  check("the adders were preempted meanwhile", exos_thread_epilogues - me0 >= 5, 1);
  mutex_init(&pair_lock);
  check("lock a free mutex", mutex_lock(&pair_lock), 0);
  check("lock it again: refused", mutex_lock(&pair_lock), -E_INVAL);
  thread_join(thread_create(unlock_others, NULL));
  check("unlock by a thread that does not hold it: refused", other_unlock, -E_PERM);
  check("unlock by the holder", mutex_unlock(&pair_lock), 0);
  check("unlock a free mutex: refused", mutex_unlock(&pair_lock), -E_PERM);
  stop_if_failed("t_thread");

  // (d2) A fair mutex: its waiters block, and get it first come, first served.
  fair_mutex();
  stop_if_failed("t_thread");

  // (e) Join of a finished thread returns at once; unknown ids are refused.
  int q = thread_create(quick, NULL);
  while (!quick_done)
    thread_yield();
  thread_yield();
  thread_yield();
  unsigned long qs = exos_thread_switches;
  check("join of a finished thread returns 0", thread_join(q), 0);
  check("... at once, without a switch", exos_thread_switches - qs, 0);
  check("join of a thread joined already: refused", thread_join(q), -E_INVAL);
  check("join of an unknown thread: refused", thread_join(12345), -E_INVAL);
  check("join of thread 0: refused", thread_join(0), -E_INVAL);
  check("join of itself: refused", thread_join(thread_self()), -E_INVAL);
  stop_if_failed("t_thread");

  // (f) Exceptions in threads: page faults on the lazy heap, breakpoints
  // and malloc, in four threads preempted in between.
  exos_set_handler(EXC_BREAKPOINT, on_breakpoint);
  lazy = sbrk(NADDERS * TOUCH_PAGES * PGSIZE);
  unsigned long lazy_free = SYSINFO->nfree, fe0 = exos_thread_epilogues;
  for (int i = 0; i < NADDERS; i++)
    tids[i] = thread_create(toucher, (void *)(long)i);
  for (int i = 0; i < NADDERS; i++)
    thread_join(tids[i]);
  check("four threads faulted in their heap pages and found them intact",
        touch_ok[0] + touch_ok[1] + touch_ok[2] + touch_ok[3], NADDERS);
  check("the faults mapped the pages", lazy_free - SYSINFO->nfree >= NADDERS * TOUCH_PAGES, 1);
  check("each thread's breakpoint was handled", breakpoints, NADDERS);
  printf("fault threads preempted %lu times\n", exos_thread_epilogues - fe0);
  check("the fault threads were preempted meanwhile", exos_thread_epilogues - fe0 >= 5, 1);
  stop_if_failed("t_thread");

  // (g) Reports that end a program, each in a forked child.
  check("a deadlock ends the program with a report (status -1)", in_child(deadlock_child), -1);
  check("a thread's stack overflow ends the program with a report (status -1)",
        in_child(overflow_child), -1);
  check("thread 1 can exit and be joined while another thread goes on (status 42)",
        in_child(main_exits_child), 42);

  printf("t_thread: %lu preemptions, %lu prologues, %lu thread switches in all\n",
         exos_thread_epilogues, exos_thread_prologues, exos_thread_switches);
  kcheck("threads");
  finish("t_thread");
}
