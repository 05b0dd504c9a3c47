// t_hart: hart threads (ulib/thread.c, thread_create_on): threads that run
// beside the program, each alone in a sibling environment on a hart of its
// own. A mutex shared by hart threads and the program's own threads loses
// no update under true parallelism; a bounded buffer with condition
// variables passes every item between harts; a hart thread takes page
// faults on the lazy heap; joined, hart threads leave no page behind; a
// deadlock across harts is reported; exit() in a hart thread ends the
// whole program with its status. On one hart too (all on hart 0).
//
//   t_hart            every check
//   t_hart deadlock   two hart threads take two mutexes in opposite orders

#include "user/tsupport.h"

#define NHART   3
#define ROUNDS  2000  // per thread, in the counter
#define ITEMS   2000
#define BUFSIZE 4
#define HEAP_KB 256

// The hart for hart thread i: harts 1, 2, 3 if there are that many, else
// any (on one hart: hart 0).
static int hart_for(int i)
{
  return SYSINFO->harts_up > (unsigned long)(i + 1) ? i + 1 : -1;
}

// Do two of this program's environments run on harts at once (the exported
// table of who runs where)?
static int beside_each_other(void)
{
  unsigned int me = ENVINFO(sys_getenvid())->root_ppn;
  int n = 0;
  for (unsigned long h = 0; h < SYSINFO->harts_up; h++) {
    unsigned int id = SYSINFO->running[h];
    n += id != 0 && ENVINFO(id)->id == id && ENVINFO(id)->root_ppn == me;
  }
  return n >= 2;
}

// ---------------------------------------------------------------- the counter

static struct mutex counter_lock;
static volatile unsigned long counter, together;

// Add 1 to counter ROUNDS times under counter_lock (a load, a delay and a
// store: only the mutex keeps updates from being lost); note whether two
// of this program's environments were seen running at once.
static void count(void *unused)
{
  (void)unused;
  for (int i = 0; i < ROUNDS; i++) {
    mutex_lock(&counter_lock);
    unsigned long c = counter;
    if (i % 100 == 0 && beside_each_other())
      together = 1;
    for (volatile int k = 0; k < 20; k++)
      ;  // (a wider window for a lost update, should two threads hold it)
    counter = c + 1;
    mutex_unlock(&counter_lock);
  }
}

// NHART hart threads and a thread of the program's own add to one counter
// beside this one. Returns the number of free pages afterwards.
static unsigned long counter_round(int round)
{
  int tids[NHART + 1], made = 0;
  counter = together = 0;
  for (int i = 0; i < NHART; i++)
    made += (tids[i] = thread_create_on(count, NULL, hart_for(i))) > 1;
  made += (tids[NHART] = thread_create(count, NULL)) > 1;
  count(NULL);
  int joined = 0;
  for (int i = 0; i <= NHART; i++)
    joined += thread_join(tids[i]) == 0;
  if (round == 1) {
    check("three hart threads and one thread made", made, NHART + 1);
    check("... joined", joined, NHART + 1);
    check("no update of the counter lost", counter, (NHART + 2) * ROUNDS);
    if (SYSINFO->harts_up >= 2)
      check("... while they ran beside each other", together, 1);
  }
  return SYSINFO->nfree;
}

// ---------------------------------------------------------------- the buffer

static struct mutex buf_lock;
static struct cond not_full, not_empty;
static unsigned long buf[BUFSIZE], head, tail;

// Put items 1..ITEMS into the bounded buffer.
static void producer(void *unused)
{
  (void)unused;
  for (unsigned long i = 1; i <= ITEMS; i++) {
    mutex_lock(&buf_lock);
    while (tail - head == BUFSIZE)
      cond_wait(&not_full, &buf_lock);
    buf[tail++ % BUFSIZE] = i;
    cond_signal(&not_empty);
    mutex_unlock(&buf_lock);
  }
}

// A hart thread fills the buffer; this thread empties it.
static void buffer(void)
{
  int tid = thread_create_on(producer, NULL, hart_for(0));
  unsigned long sum = 0, in_order = 1;
  for (unsigned long i = 1; i <= ITEMS; i++) {
    mutex_lock(&buf_lock);
    while (tail == head)
      cond_wait(&not_empty, &buf_lock);
    unsigned long x = buf[head++ % BUFSIZE];
    in_order &= x == i;
    sum += x;
    cond_signal(&not_full);
    mutex_unlock(&buf_lock);
  }
  check("a bounded buffer filled by a hart thread: every item, in order",
        sum == ITEMS * (ITEMS + 1) / 2 && in_order, 1);
  check("... the producer joined", thread_join(tid), 0);
}

// ---------------------------------------------------------------- faults

static volatile unsigned long heap_sum;

// Touch HEAP_KB of fresh heap (lazily mapped: a page fault each page,
// handled on this hart thread's own processor), then sum it.
static void toucher(void *unused)
{
  (void)unused;
  unsigned long n = HEAP_KB * 1024 / sizeof(unsigned long), sum = 0;
  unsigned long *a = malloc(n * sizeof(unsigned long));
  if (a == NULL)
    return;
  for (unsigned long i = 0; i < n; i++)
    a[i] = i;
  for (unsigned long i = 0; i < n; i++)
    sum += a[i];
  heap_sum = sum;
  free(a);
}

static void faults(void)
{
  unsigned long n = HEAP_KB * 1024 / sizeof(unsigned long);
  int tid = thread_create_on(toucher, NULL, hart_for(1));
  check("a hart thread's page faults on the heap are handled",
        thread_join(tid) == 0 && heap_sum == n * (n - 1) / 2, 1);
}

// ---------------------------------------------------------------- deadlock

static struct mutex first, second;
static volatile int holding;

// Take mutex a, wait until the other thread holds its first, take b.
static void lock_both(struct mutex *a, struct mutex *b)
{
  mutex_lock(a);
  __atomic_fetch_add(&holding, 1, __ATOMIC_SEQ_CST);
  while (holding < 2)
    ;
  mutex_lock(b);
}

static void first_then_second(void *unused)
{
  (void)unused;
  lock_both(&first, &second);
}

static void second_then_first(void *unused)
{
  (void)unused;
  lock_both(&second, &first);
}

// Two hart threads each hold one mutex and wait for the other's, while
// this thread waits for them: the program ends with the deadlock report.
static void deadlock(void)
{
  int a = thread_create_on(first_then_second, NULL, hart_for(0));
  int b = thread_create_on(second_then_first, NULL, hart_for(1));
  thread_join(a);
  thread_join(b);
  printf("t_hart: FAIL: the deadlock went unnoticed\n");
}

// ---------------------------------------------------------------- exit

static volatile int spinning;

static void exit_seven(void *unused)
{
  (void)unused;
  exit(7);
}

static void spinner(void *unused)
{
  (void)unused;
  for (;;)
    spinning = 1;
}

// The child: a hart thread spins, another ends the program with exit(7)
// while this thread waits to join it.
static void exiting_child(void)
{
  thread_create_on(spinner, NULL, hart_for(0));
  while (!spinning)
    thread_yield();
  int tid = thread_create_on(exit_seven, NULL, hart_for(1));
  thread_join(tid);
  printf("t_hart: FAIL: exit() in a hart thread did not end the program\n");
  exit(1);
}

// exit() in a hart thread ends the whole program (the child): its parent
// collects the status, and nothing of the child is left.
static void exit_in_hart_thread(void)
{
  unsigned long envs = 0;
  for (unsigned long i = 0; i < SYSINFO->nenv; i++)
    envs += ENVINFO(i)->id != 0;
  int pid = fork();
  if (pid == 0)
    exiting_child();
  int status = -1;
  check("exit(7) in a hart thread ends the program with status 7",
        wait(&status) == pid && status == 7, 1);
  unsigned long after = 0;
  for (unsigned long i = 0; i < SYSINFO->nenv; i++)
    after += ENVINFO(i)->id != 0;
  check("... and every environment of it is gone", after, envs);
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "deadlock") == 0) {
    deadlock();
    return 1;
  }
  exit_in_hart_thread();  // (first: fork, before this program has hart threads)
  counter_round(1);
  unsigned long free1 = counter_round(2), free2 = counter_round(3);
  check("hart threads joined leave no page behind", free2, free1);
  buffer();
  faults();
  kcheck("hart threads");
  finish("t_hart");
}
