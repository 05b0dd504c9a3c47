// t_cond: ExOS's condition variables (ulib/thread.c): errors, the order in
// which signal and broadcast wake the sleepers, a bounded buffer shared by
// producers and consumers under preemption, and a hunt for lost wake-ups
// that ends a slice at each point of a cond_wait in turn. Run it under
// -icount shift=0: the hunt relies on slices that end at the same
// instruction every time.

#include "user/tsupport.h"

#define NSLEEPERS 4
#define NPROD     3
#define NCONS     2
#define ITEMS     120  // per producer
#define BUFSIZE   4
#define SWEEP     120  // rounds of one sweep of the lost wake-up hunt
#define SWEEPS    3    // each calibrated afresh: a slice's end moves a little from run to run
#define ROUNDS    (SWEEPS * SWEEP)

// Spin for n iterations of an empty loop.
static void delay(unsigned long n)
{
  for (volatile unsigned long i = 0; i < n; i++)
    ;
}

// ---------------------------------------------------------------- (a) who wakes

static struct mutex m;
static struct cond c;
static volatile int asleep, woken[NSLEEPERS + 1], wake_order[NSLEEPERS], nwoken, held;

// Note this sleeper's place in line, sleep on c once, and note when it woke
// and whether it held the mutex then (its unlock succeeds).
static void sleeper(void *arg)
{
  long me = (long)arg;
  mutex_lock(&m);
  asleep++;
  cond_wait(&c, &m);
  woken[me] = 1;
  wake_order[nwoken++] = me;
  held += mutex_unlock(&m) == 0;
}

// Start sleepers 1..NSLEEPERS one after another, each asleep on c before the
// next starts.
static void start_sleepers(int *tids)
{
  for (int i = 1; i <= NSLEEPERS; i++) {
    tids[i - 1] = thread_create(sleeper, (void *)(long)i);
    for (int spins = 0; spins < 100 && asleep < i; spins++)
      thread_yield();
  }
}

// Let every runnable thread run a few times over.
static void settle(void)
{
  for (int i = 0; i < 3 * NSLEEPERS; i++)
    thread_yield();
}

// ---------------------------------------------------------------- (b) bounded buffer

static struct mutex buf_lock;
static struct cond nonempty, nonfull;
static long buf[BUFSIZE];
static int buf_head, buf_count, max_count;
static volatile long consumed_sum, consumed_n, full_waits, empty_waits, bad_unlocks;

// Put ITEMS values into the buffer, waiting while it is full.
static void producer(void *arg)
{
  long p = (long)arg;
  for (long i = 0; i < ITEMS; i++) {
    delay(3000 + 700 * ((i * 7 + p) % 11));
    mutex_lock(&buf_lock);
    while (buf_count == BUFSIZE) {
      full_waits++;
      cond_wait(&nonfull, &buf_lock);
    }
    buf[(buf_head + buf_count) % BUFSIZE] = p * 1000 + i;
    buf_count++;
    if (buf_count > max_count)
      max_count = buf_count;
    cond_signal(&nonempty);
    bad_unlocks += mutex_unlock(&buf_lock) != 0;
  }
}

// Take NPROD * ITEMS / NCONS values out of the buffer, waiting while it is
// empty, and add them up.
static void consumer(void *arg)
{
  for (long i = 0; i < NPROD * ITEMS / NCONS; i++) {
    mutex_lock(&buf_lock);
    while (buf_count == 0) {
      empty_waits++;
      cond_wait(&nonempty, &buf_lock);
    }
    long v = buf[buf_head];
    buf_head = (buf_head + 1) % BUFSIZE;
    buf_count--;
    consumed_sum += v;
    consumed_n++;
    cond_signal(&nonfull);
    bad_unlocks += mutex_unlock(&buf_lock) != 0;
    delay(2500 + 900 * (i % 5));
  }
}

// ---------------------------------------------------------------- (c) lost wake-ups

static struct mutex hunt_lock;
static struct cond hunt_cond;
static volatile int hunt_want, hunt_ready, hunt_stuck, hunt_done;
static unsigned long hunt_end;  // a slice ends this many ticks after a resume

// Wait until the epilogue has preempted this thread and it runs again;
// return the time it resumed.
static unsigned long next_resume(void)
{
  unsigned long n = thread_preemptions(thread_self());
  while (thread_preemptions(thread_self()) == n)
    ;
  return rdtime();
}

// Learn where in its slice this thread gets preempted: the ticks from its
// resume to the last moment it saw before the next preemption.
static void calibrate(void)
{
  unsigned long t0 = next_resume(), last = t0, n = thread_preemptions(thread_self());
  while (thread_preemptions(thread_self()) == n)
    last = rdtime();
  hunt_end = last - t0;
}

// The waiter: in round k, hold the lock, ask for a signal, and wait for it
// with a cond_wait that begins one step of a delay loop later than the
// round before, counted from a few ticks before the slice ends: round by
// round the slice ends at each point of cond_wait in turn. SWEEPS sweeps,
// each after a calibration of its own (where a slice ends, as measured,
// moves by a tick or two from run to run: one sweep may step over the few
// instructions where a wake-up can be lost).
static void hunt_waiter(void *arg)
{
  for (int k = 1; k <= ROUNDS; k++) {
    if (k % SWEEP == 1)
      calibrate();
    unsigned long t0 = next_resume();
    mutex_lock(&hunt_lock);
    hunt_ready = 0;
    hunt_want = k;
    while ((unsigned long)rdtime() < t0 + hunt_end - 3)
      ;
    delay(1 + (k - 1) % SWEEP);
    while (!hunt_ready)
      cond_wait(&hunt_cond, &hunt_lock);
    mutex_unlock(&hunt_lock);
  }
  hunt_done = 1;
}

// The signaller: answer each round once: set ready and signal. If no new
// round comes for 100 ms while the waiter is not done, its wake-up was
// lost: note that and stop.
static void hunt_signaller(void *arg)
{
  int served = 0;
  unsigned long deadline = sys_uptime() + SYSINFO->timebase_hz / 10;
  while (!hunt_done) {
    if (hunt_want != served) {
      mutex_lock(&hunt_lock);
      served = hunt_want;
      hunt_ready = 1;
      cond_signal(&hunt_cond);
      mutex_unlock(&hunt_lock);
      deadline = sys_uptime() + SYSINFO->timebase_hz / 10;
    } else if ((unsigned long)sys_uptime() > deadline) {
      hunt_stuck = served;
      return;
    }
    thread_yield();
  }
}

int main(int argc, char **argv)
{
  // (a) Errors, and who wakes.
  mutex_init(&m);
  cond_init(&c);
  check("cond_wait without holding the mutex: refused", cond_wait(&c, &m), -E_PERM);
  int tids[NSLEEPERS];
  cond_signal(&c);  // nobody sleeps: a signal now is not remembered
  start_sleepers(tids);
  check("four sleepers asleep on the condition", asleep, NSLEEPERS);
  settle();
  check("a signal sent before anyone slept woke nobody", nwoken, 0);
  stop_if_failed("t_cond");
  cond_signal(&c);
  settle();
  check("one signal wakes exactly one sleeper", nwoken, 1);
  check("... the one that has slept longest (sleeper 1)", woken[1], 1);
  cond_signal(&c);
  settle();
  check("the next signal wakes the next one (sleeper 2)", nwoken == 2 && woken[2], 1);
  stop_if_failed("t_cond");
  cond_broadcast(&c);
  settle();
  check("a broadcast wakes all the others", nwoken, NSLEEPERS);
  int joined = 0;
  for (int i = 0; i < NSLEEPERS; i++)
    joined += thread_join(tids[i]) == 0;
  check("every sleeper finished", joined, NSLEEPERS);
  check("every sleeper woke holding the mutex (its unlock succeeded)", held, NSLEEPERS);
  stop_if_failed("t_cond");

  // (b) A bounded buffer under preemption.
  mutex_init(&buf_lock);
  cond_init(&nonempty);
  cond_init(&nonfull);
  unsigned long e0 = exos_thread_epilogues;
  int workers[NPROD + NCONS];
  for (int i = 0; i < NPROD; i++)
    workers[i] = thread_create(producer, (void *)(long)i);
  for (int i = 0; i < NCONS; i++)
    workers[NPROD + i] = thread_create(consumer, NULL);
  for (int i = 0; i < NPROD + NCONS; i++)
    thread_join(workers[i]);
  long want = 0;
  for (long p = 0; p < NPROD; p++)
    want += ITEMS * p * 1000 + ITEMS * (ITEMS - 1) / 2;
  printf("bounded buffer: %ld items, %ld waits while full, %ld while empty, %lu preemptions\n",
         consumed_n, full_waits, empty_waits, exos_thread_epilogues - e0);
  check("the consumers got every item exactly once", consumed_n == NPROD * ITEMS &&
        consumed_sum == want, 1);
  check("the buffer never overflowed", max_count <= BUFSIZE, 1);
  check("every producer and consumer held the mutex when it unlocked it", bad_unlocks, 0);
  check("producers waited while it was full and consumers while it was empty",
        full_waits > 0 && empty_waits > 0, 1);
  check("the threads were preempted meanwhile", exos_thread_epilogues - e0 >= 5, 1);
  stop_if_failed("t_cond");

  // (c) Lost wake-ups: a slice that ends inside cond_wait must not lose the
  // signal the other thread then sends.
  mutex_init(&hunt_lock);
  cond_init(&hunt_cond);
  int waiter = thread_create(hunt_waiter, NULL), signaller = thread_create(hunt_signaller, NULL);
  thread_join(signaller);
  if (hunt_stuck)
    printf("lost wake-up: in round %d the waiter slept on although the signaller had signalled\n",
           hunt_stuck);
  check("no wake-up lost in 120 rounds of slices ending inside cond_wait", hunt_stuck, 0);
  stop_if_failed("t_cond");
  thread_join(waiter);

  kcheck("condition variables");
  finish("t_cond");
}
