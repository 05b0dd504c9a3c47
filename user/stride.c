// stride: a demonstration of the stride scheduler (ulib/stride.c). The
// parent owns every time slice and hands them out in three phases. In the
// first, three CPU-bound children hold 3, 2 and 1 tickets. In the second,
// the first and third children's tickets change to 1 and 3 (the second
// keeps its 2) while the scheduler runs on from their passes, and a fourth
// child joins with 2. In the third, the second child leaves the scheduler
// (it stays alive). Each child measures the time it
// actually ran (rdtime intervals between consecutive samples) in a page it
// shares with the parent; the shares of each phase should follow that
// phase's tickets.
//
// Usage: stride [MS]   hand out MS milliseconds of slices in each phase
//                      (default 1000).

#include "ulib/ulib.h"
#include "ulib/exos.h"
#include "kernel/riscv.h"

#define SHARED 0x2500000000UL
#define RAN    ((volatile unsigned long *)SHARED)
#define NKIDS  4

static int pids[NKIDS];

// Count the time this child runs in RAN[slot], forever.
static void spin(int slot)
{
  unsigned long last = rdtime(), gap = ((const struct sysinfo *)USYSINFO)->timebase_hz / 20000;
  for (;;) {
    unsigned long now = rdtime();
    if (now - last < gap)  // consecutive samples: we were running in between
      RAN[slot] += now - last;
    last = now;
  }
}

// Fork child slot and make it a client with the given tickets. Returns 0,
// or -1 (reported; no child is left running).
static int start(int slot, unsigned long tickets)
{
  if ((pids[slot] = fork()) == 0)
    spin(slot);
  if (pids[slot] >= 0 && stride_add(pids[slot], tickets) == 0)
    return 0;
  printf("stride: cannot start child %d with %lu tickets\n", slot + 1, tickets);
  if (pids[slot] >= 0) {
    kill(pids[slot]);
    waitpid(pids[slot], 0);
  }
  return -1;
}

// Hand out ms milliseconds of slices to the first n children, which hold
// tickets[0..n-1] (0: not a client), and print the share of the time each
// ran in that phase. Returns 1 if every share is within 10% of its tickets'
// share (at most 1% for a child that is no client), else 0.
static int phase(int num, int n, const unsigned long *tickets, unsigned long ms)
{
  unsigned long before[NKIDS], total = 0, all = 0;
  for (int i = 0; i < n; i++) {
    before[i] = RAN[i];
    all += tickets[i];
  }
  unsigned long hz = ((const struct sysinfo *)USYSINFO)->timebase_hz;
  long slices = stride_run(hz / 1000 * ms);  // ms of machine time
  if (slices < 0) {
    printf("stride: phase %d: stride_run: %s\n", num, exos_strerror(slices));
    return 0;
  }
  for (int i = 0; i < n; i++)
    total += RAN[i] - before[i];
  printf("stride: phase %d: %ld slices handed out\n", num, slices);
  int ok = total > 0;
  for (int i = 0; i < n; i++) {
    unsigned long permille = (RAN[i] - before[i]) * 1000 / (total ? total : 1);
    unsigned long want = tickets[i] * 1000 / all;
    printf("stride: phase %d: child %d with %lu tickets ran %lu.%lu%% of the time (ideal "
           "%lu.%lu%%)\n",
           num, i + 1, tickets[i], permille / 10, permille % 10, want / 10, want % 10);
    ok &= want == 0 ? permille <= 10 : permille * 10 >= want * 9 && permille * 10 <= want * 11;
  }
  printf("stride: phase %d: shares %s their tickets within 10%%\n", num, ok ? "match" : "DO NOT match");
  return ok;
}

int main(int argc, char **argv)
{
  const unsigned long first[3] = {3, 2, 1}, second[NKIDS] = {1, 2, 3, 2}, third[NKIDS] = {1, 0, 3, 2};
  unsigned long ms = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 1000;
  int ok = 0, started = 0;
  if (vm_alloc(SHARED, PTE_R | PTE_W | PTE_SHARE) < 0) {
    printf("stride: cannot map the shared page\n");
    return 1;
  }
  while (started < 3 && start(started, first[started]) == 0)
    started++;
  if (started == 3 && phase(1, 3, first, ms)) {
    int refused = 0;
    for (int i = 0; i < 3; i++)  // child 2 keeps its 2 tickets, and its pass
      if (second[i] != first[i])
        refused |= stride_set_tickets(pids[i], second[i]) < 0;
    if (refused)
      printf("stride: stride_set_tickets refused a change\n");
    else if (start(started, second[started]) == 0 && phase(2, ++started, second, ms)) {
      if (stride_remove(pids[1]) < 0)
        printf("stride: stride_remove refused to remove child 2\n");
      else
        ok = phase(3, NKIDS, third, ms);
    }
  }
  for (int i = 0; i < started; i++) {
    kill(pids[i]);
    waitpid(pids[i], 0);
  }
  printf("stride: %s\n", ok ? "every phase follows its tickets" : "FAILED");
  return ok ? 0 : 1;
}
