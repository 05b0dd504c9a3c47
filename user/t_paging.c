// t_paging: ExOS's answer to revocation. A paged region backed by the
// file /pagefile, its replacement policy (the default clock, and one of the
// program's own), revocation answered by the policy, a child that ignores
// revocation, and a child that survives repossession and is told what it
// lost.

#include "user/tsupport.h"
#include "ulib/exos.h"

#define REGION  0x1000000000UL
#define NPAGES  128
#define WORD(i) ((volatile unsigned long *)(REGION + (i) * (unsigned long)PGSIZE))

static unsigned int blocks[NPAGES];
static int mru_calls;

#define MS(n) (SYSINFO->timebase_hz / 1000 * (n))

// Map the region over /pagefile's blocks, which the file server binds to
// this process (the first program or not). Returns 0 or an error.
static long setup_region(void)
{
  struct fs_file f;
  long err = fs_open("/pagefile", O_RDWR, &f);
  if (err == 0)
    err = fs_bind(&f, 0, NPAGES, blocks);
  return err < 0 ? err : region_map(REGION, NPAGES, blocks);
}

// Scan the region: page i's first and last words must hold i + salt.
static int scan_ok(unsigned long salt)
{
  int ok = 1;
  for (int i = 0; i < NPAGES; i++)
    ok &= WORD(i)[0] == i + salt && WORD(i)[PGSIZE / 8 - 1] == i + salt;
  return ok;
}

// Most recently used: the right victim for a cyclic scan bigger than memory.
static int policy_mru(const struct exos_resident *pages, int n)
{
  int best = 0;
  mru_calls++;
  for (int i = 1; i < n; i++)
    if (pages[i].loaded > pages[best].loaded)
      best = i;
  return best;
}

// User pages env id owns, counted from the exported page table.
static long user_pages(unsigned int id)
{
  long n = 0;
  for (unsigned long p = SYSINFO->base_ppn; p < SYSINFO->base_ppn + SYSINFO->npages; p++)
    n += PAGEINFO(p)->owner == id && PAGEINFO(p)->type == PG_USER;
  return n;
}

// Give the others the processor for ms milliseconds.
static void let_run(unsigned long ms)
{
  unsigned long end = sys_uptime() + MS(ms);
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
}

// A child holding 64 heap pages that ignores revocation (no entry).
static void ignoring_child(void)
{
  volatile char *heap = malloc(64 * PGSIZE);
  for (int i = 0; i < 64; i++)
    heap[i * PGSIZE] = 1;
  sys_env_set_entry(0, ENTRY_REVOKE, 0);
  for (;;)
    sys_yield(0);
}

// A child with 8 resident region pages and 64 heap pages: asked for 40, its
// policy gives the 8; the kernel takes the rest. It must keep running, learn
// what it lost, and be stopped with a clear message when it touches it.
static void repossessed_child(void)
{
  setup_region();
  region_set_allowance(8);
  for (int i = 0; i < 8; i++)
    WORD(i)[0] = 7;
  volatile char *heap = malloc(64 * PGSIZE);
  for (int i = 0; i < 64; i++)
    heap[i * PGSIZE] = 1;
  while (exos_pages_lost == 0)
    sys_yield(0);
  printf("child: survived repossession with %lu pages lost, %d region pages resident\n",
         exos_pages_lost, region_resident());
  for (int i = 0; i < 64; i++)
    heap[i * PGSIZE]++;  // one of these was taken
  exit(0);
}

int main(int argc, char **argv)
{
  check("map a 128-page region over /pagefile", setup_region(), 0);
  region_set_allowance(32);
  for (int i = 0; i < NPAGES; i++)
    WORD(i)[0] = WORD(i)[PGSIZE / 8 - 1] = i + 1000;
  check("more pages than the allowance: data survives eviction and reload", scan_ok(1000), 1);
  check("... with at most 32 resident", region_resident(), 32);
  check("... dirty pages written back", exos_pageouts >= NPAGES - 32, 1);

  // The default clock against the program's own MRU policy on cyclic scans.
  unsigned long before = exos_pageins;
  scan_ok(1000);
  scan_ok(1000);
  unsigned long clock_ins = exos_pageins - before;
  exos_set_policy(policy_mru);
  before = exos_pageins;
  scan_ok(1000);
  scan_ok(1000);
  unsigned long mru_ins = exos_pageins - before;
  printf("two cyclic scans of 128 pages in 32: clock read %lu pages, MRU %lu\n", clock_ins,
         mru_ins);
  check("the program's own policy is used", mru_calls > 0, 1);
  check("... and reads fewer pages than the clock on a cyclic scan", mru_ins < clock_ins, 1);
  exos_set_policy(NULL);

  // Revocation answered by the policy (asked of itself, to be exact).
  unsigned int me = sys_getenvid();
  const volatile struct uarea *u = (const volatile struct uarea *)UAREA;
  unsigned long taken = u->repossessed_count, mine = user_pages(me);
  check("ask this process for 10 pages", sys_revoke(me, REVOKE_PAGES, 10, MS(20)), 0);
  let_run(40);
  check("the policy gave 10 region pages", region_resident(), 22);
  check("... so the kernel took nothing", u->repossessed_count, taken);
  check("... and 10 pages went back", user_pages(me), mine - 10);
  check("the region's data is intact", scan_ok(1000), 1);

  // A named page: the policy gives that one.
  unsigned long ppn = PTE_PPN(vm_pte((unsigned long)WORD(NPAGES - 1)));
  check("ask for one named region page", ppn != 0 && sys_revoke(me, REVOKE_PAGE, ppn, MS(20)) == 0,
        1);
  let_run(40);
  check("... it was given back", PAGEINFO(ppn)->owner != me, 1);
  check("... and the page still reads right", WORD(NPAGES - 1)[0], NPAGES - 1 + 1000);

  // A child that ignores revocation loses pages; the parent does not.
  int pid = fork();
  if (pid == 0)
    ignoring_child();
  // Let it settle: its copy-on-write faults may go on past the 64th page.
  for (long last = -1; user_pages(pid) < 64 || last != user_pages(pid);) {
    last = user_pages(pid);
    for (int i = 0; i < 5; i++)
      sys_yield(pid);
  }
  long held = user_pages(pid);
  mine = user_pages(me);
  check("ask the ignoring child for 40 pages", sys_revoke(pid, REVOKE_PAGES, 40, MS(10)), 0);
  let_run(40);
  check("it lost them by force", user_pages(pid) <= held - 40, 1);
  check("the parent lost nothing", user_pages(me), mine);
  check("the parent's region is intact", scan_ok(1000), 1);
  kill(pid);
  waitpid(pid, NULL);

  // A child that answers what it can survives the rest being taken.
  pid = fork();
  if (pid == 0)
    repossessed_child();
  while (user_pages(pid) < 64 + 8)
    sys_yield(pid);
  check("ask the other child for 40 pages", sys_revoke(pid, REVOKE_PAGES, 40, MS(10)), 0);
  int status = 0;
  check("wait for it", waitpid(pid, &status), pid);
  check("it ran on, and touching a lost page ended it", status, -1);
  kcheck("revocation");
  finish("t_paging");
}
