// stride: a demonstration of the stride scheduler (ulib/stride.c). Three
// CPU-bound children hold 3, 2 and 1 tickets; the parent owns every time
// slice and hands them out. Each child measures the time it actually ran
// (rdtime intervals between consecutive samples) in a page it shares with
// the parent. The shares should come out 3:2:1.
//
// Usage: stride [MS]   hand out MS milliseconds of slices (default 1000).

#include "ulib/ulib.h"
#include "ulib/exos.h"
#include "kernel/riscv.h"

#define SHARED 0x2500000000UL
#define RAN    ((volatile unsigned long *)SHARED)

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

int main(int argc, char **argv)
{
  const unsigned long tickets[3] = {3, 2, 1};
  int pids[3];
  if (vm_alloc(SHARED, PTE_R | PTE_W | PTE_SHARE) < 0) {
    printf("stride: cannot map the shared page\n");
    return 1;
  }
  for (int i = 0; i < 3; i++) {
    if ((pids[i] = fork()) == 0)
      spin(i);
    stride_add(pids[i], tickets[i]);
  }
  unsigned long hz = ((const struct sysinfo *)USYSINFO)->timebase_hz;
  unsigned long ms = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 1000;
  long slices = stride_run(hz / 1000 * ms);  // ms of machine time
  for (int i = 0; i < 3; i++) {
    kill(pids[i]);
    waitpid(pids[i], 0);
  }
  unsigned long total = RAN[0] + RAN[1] + RAN[2];
  printf("stride: %ld slices handed out\n", slices);
  int ok = total > 0;
  for (int i = 0; i < 3; i++) {
    unsigned long permille = RAN[i] * 1000 / (total ? total : 1);
    unsigned long want = tickets[i] * 1000 / 6;
    printf("stride: child with %lu tickets ran %lu.%lu%% of the time (ideal %lu.%lu%%)\n",
           tickets[i], permille / 10, permille % 10, want / 10, want % 10);
    ok &= permille * 10 >= want * 9 && permille * 10 <= want * 11;
  }
  printf("stride: shares %s 3:2:1 within 10%%\n", ok ? "match" : "DO NOT match");
  return ok ? 0 : 1;
}
