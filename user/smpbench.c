// smpbench: how the kernel's cost of an operation grows with the harts
// that run it at once (`make bench` boots it with -smp 4, after exobench).
//
// The scaling rows: N independent processes, each forking children that
// exit at once and waiting for them, one after the other, K times; for N
// = 1, 2 and 4. The figure is retired instructions per fork-exit-wait,
// counted over every hart. Under QEMU's -icount shift=0, rdinstret reads
// one counter that every hart advances (QEMU runs the harts in turn, each
// until it waits in wfi, is interrupted or its turn ends), so it counts
// all the work an operation made, on whichever hart, and nothing while a
// hart waits with nothing to run. A kernel that scaled perfectly would
// give the same figure for every N; what it adds as N grows is the cost
// of sharing: harts waiting for the kernel lock (spinning, then asleep),
// waking one another, fencing one another's TLBs. Beside the figure, the
// counts that explain it: kernel lock waits (a hart found the lock held)
// and shootdowns, per operation. Every count is the same from run to run
// when QEMU runs with -icount shift=0,sleep=off (without sleep=off, time
// in which every hart waits passes in host time).
//
// A run forks its N processes, which each make K fork-exit-waits and
// exit, and waits for them: the same run with K = 0 is taken off (the N
// processes' own fork, exit and wait), so what is left is the K * N
// operations. The figure is the median of RUNS runs, with their range.
//
// Usage: smpbench [quick]   (quick: K of 4 instead of 32)

#include "ulib/ulib.h"
#include "kernel/riscv.h"

#define RUNS    3
#define MAXPROC 4  // the largest N

#define SYSINFO ((const volatile struct sysinfo *)USYSINFO)

// What a run counted: instructions, kernel lock waits and shootdowns.
struct counts {
  unsigned long instr, lock_waits, shootdowns;
};

// One process's work: k fork-exit-waits, then exit.
static void worker(int k)
{
  for (int i = 0; i < k; i++) {
    int pid = fork();
    if (pid == 0)
      exit(0);
    if (pid < 0 || waitpid(pid, NULL) != pid) {
      printf("smpbench: FAIL: fork-exit-wait %d of %d: %s\n", i, k,
             exos_strerror(pid < 0 ? pid : -E_BADENV));
      exit(1);
    }
  }
  exit(0);
}

// Fork n workers making k fork-exit-waits each and wait for them all; what
// the machine counted meanwhile. Returns 0, or -1 if a worker failed.
static int run(int n, int k, struct counts *c)
{
  int pids[MAXPROC], bad = 0;
  unsigned long i0 = rdinstret(), l0 = SYSINFO->lock_waits, s0 = SYSINFO->shootdowns;
  for (int w = 0; w < n; w++)
    if ((pids[w] = fork()) == 0)
      worker(k);
  for (int w = 0; w < n; w++) {
    int status = 1;
    if (pids[w] < 0 || waitpid(pids[w], &status) != pids[w] || status != 0)
      bad = 1;
  }
  c->instr = rdinstret() - i0;
  c->lock_waits = SYSINFO->lock_waits - l0;
  c->shootdowns = SYSINFO->shootdowns - s0;
  return bad ? -1 : 0;
}

// Print v / d to one decimal place, right-aligned in width.
static void print_ratio(int width, unsigned long v, unsigned long d)
{
  unsigned long tenths = (v * 10 + d / 2) / d;
  printf("%*lu.%lu", width - 2, tenths / 10, tenths % 10);
}

// Measure the row of n processes, k operations each, and print it.
// Returns 0, or -1 if a run failed.
static int row(int n, int k)
{
  unsigned long per_op[RUNS], locks = 0, fences = 0;
  for (int r = 0; r < RUNS; r++) {
    struct counts base, full;
    if (run(n, 0, &base) < 0 || run(n, k, &full) < 0)
      return -1;
    per_op[r] = (full.instr - base.instr) / (n * k);
    locks += full.lock_waits - base.lock_waits;
    fences += full.shootdowns - base.shootdowns;
  }
  for (int i = 1; i < RUNS; i++)  // sort (insertion)
    for (int j = i; j > 0 && per_op[j - 1] > per_op[j]; j--) {
      unsigned long t = per_op[j];
      per_op[j] = per_op[j - 1];
      per_op[j - 1] = t;
    }
  printf("fork-exit-wait-%d %9d %10lu %10lu..%-10lu", n, n * k, per_op[RUNS / 2], per_op[0],
         per_op[RUNS - 1]);
  print_ratio(10, locks, RUNS * n * k);
  print_ratio(10, fences, RUNS * n * k);
  printf("\n");
  return 0;
}

int main(int argc, char **argv)
{
  int k = argc >= 2 && strcmp(argv[1], "quick") == 0 ? 4 : 32;
  unsigned long harts = SYSINFO->harts_up;
  printf("smpbench: %lu hart%s; retired instructions of every hart (rdinstret) per operation, "
         "median of %d runs\n",
         harts, harts == 1 ? "" : "s", RUNS);
  printf("benchmark           ops   instr/op  runs                  locks/op fences/op\n");
  for (int n = 1; n <= MAXPROC; n *= 2) {
    if ((unsigned long)n > harts) {
      printf("fork-exit-wait-%d (needs %d harts)\n", n, n);
    } else if (row(n, k) < 0) {
      printf("smpbench: FAIL: fork-exit-wait-%d\n", n);
      return 1;
    }
  }
  printf("smpbench: done\n");
  return 0;
}
