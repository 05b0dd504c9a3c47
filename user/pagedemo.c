// pagedemo: application-specific page replacement, the exokernel paper's
// point about policy in the library. A program scans a 128-page "file-sized
// array" (a paged region over /pagefile) cyclically with room for only 32
// pages. ExOS's default policy, the clock, evicts the page the scan will
// want soonest and misses on every page; the program knows its access
// order and installs MRU (evict the page just used), which keeps 31 pages
// resident across passes. The file server binds it /pagefile's blocks
// (fs_bind), so it runs from the shell (`pagedemo`) as well as first
// (`make qemu ARGS=init=pagedemo`). The costs are retired instructions
// (rdinstret), exact under -icount, less the time the hart waited idle for
// the disk (sysinfo.idle: host time there). Before it measures, a child
// tries one scan with the default clock within a time limit: a clock that
// sweeps for ever would otherwise hang the demo, so it says FAIL instead.
// Under the view pace (pagedemo -v, user/demo.h: demo -v paging) it holds
// after each policy's scans, the array's resident pages in view.

#include "ulib/ulib.h"
#include "ulib/exos.h"
#include "kernel/riscv.h"
#include "user/demo.h"

#define REGION 0x1000000000UL
#define NPAGES 128
#define ROOM   32
#define PASSES 4
#define TRY_MS 200  // one scan's limit in the child (it takes a few ms)

static unsigned int blocks[NPAGES];

// Evict the most recently read-in page.
static int policy_mru(const struct exos_resident *pages, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (pages[i].loaded > pages[best].loaded)
      best = i;
  return best;
}

// Scan the array PASSES times, summing one word per page. Returns the
// instructions it took, not counting the waits for the disk; *ins gets the
// pages read in. (The fewest of a few runs is what a policy costs: a busy
// host can only add to a run.)
static unsigned long scan_once(unsigned long *ins, unsigned long *sum)
{
  const volatile struct sysinfo *si = (const volatile struct sysinfo *)USYSINFO;
  unsigned long before = exos_pageins, idle = si->idle, start = rdinstret();
  for (int pass = 0; pass < PASSES; pass++)
    for (int i = 0; i < NPAGES; i++)
      *sum += *(volatile unsigned long *)(REGION + i * (unsigned long)PGSIZE);
  unsigned long cost = rdinstret() - start - (si->idle - idle);
  *ins = exos_pageins - before;
  return cost;
}

#define RUNS 3

// The fewest instructions of RUNS scans (scan_once); *ins as there.
static unsigned long scan(unsigned long *ins, unsigned long *sum)
{
  unsigned long best = ~0UL;
  for (int r = 0; r < RUNS; r++) {
    unsigned long cost = scan_once(ins, sum);
    if (cost < best)
      best = cost;
  }
  return best;
}

// Map the array, a paged region over /pagefile's blocks (which the file
// server binds to this process), with room for ROOM pages. Returns 0 or an
// error.
static long map_array(void)
{
  struct fs_file f;
  long err = fs_open("/pagefile", O_RDWR, &f);
  if (err == 0 && (err = fs_bind(&f, 0, NPAGES, blocks)) == 0)
    err = region_map(REGION, NPAGES, blocks);
  region_set_allowance(ROOM);
  return err;
}

// Does one scan with the default clock end within TRY_MS? It runs in a
// child (which maps the array again: a child starts without regions), and
// the child is killed at the limit.
static int clock_finishes(void)
{
  const volatile struct sysinfo *si = (const volatile struct sysinfo *)USYSINFO;
  const volatile struct env_info *child;
  int pid = fork(), status = -1;
  if (pid == 0) {
    unsigned long ins, sum = 0;
    if (map_array() < 0)
      exit(1);
    scan_once(&ins, &sum);
    exit(0);
  }
  child = &((const volatile struct env_info *)UENVS)[pid & (si->nenv - 1)];
  unsigned long end = sys_uptime() + si->timebase_hz / 1000 * TRY_MS;
  while (child->id == (unsigned int)pid && (unsigned long)sys_uptime() < end)
    sys_yield(pid);
  if (child->id == (unsigned int)pid)
    kill(pid);
  waitpid(pid, &status);
  return status == 0;
}

int main(int argc, char **argv)
{
  pace_args(&argc, &argv);
  long err = map_array();
  if (err < 0) {
    printf("pagedemo: cannot map /pagefile: %s\n", exos_strerror(err));
    return 1;
  }
  if (!clock_finishes()) {
    printf("pagedemo: FAIL: one scan with the default clock did not end in %d ms: with every "
           "page used, the clock never found one to evict\n", TRY_MS);
    return 1;
  }
  unsigned long sum = 0, ins, warm;
  scan_once(&warm, &sum);  // the first reads are the same for every policy
  unsigned long clock_cost = scan(&ins, &sum);
  printf("pagedemo: %d scans of %d pages in %d: default clock: %lu pages read, %lu instructions\n",
         PASSES, NPAGES, ROOM, ins, clock_cost);
  pace_hold("pagedemo", "the array's pages the clock left resident (its page tables, at 1000000000)");
  exos_set_policy(policy_mru);
  unsigned long mru_cost = scan(&ins, &sum);
  printf("pagedemo: %d scans of %d pages in %d: own MRU policy: %lu pages read, %lu instructions\n",
         PASSES, NPAGES, ROOM, ins, mru_cost);
  pace_hold("pagedemo", "the array's pages MRU left resident");
  printf("pagedemo: the program's own policy took %lu%% of the default's instructions\n",
         mru_cost * 100 / clock_cost);
  return mru_cost < clock_cost ? 0 : 1;
}
