// t_paging: ExOS's answer to revocation. A paged region backed by the
// file /pagefile, its replacement policy (the default clock, and one of the
// program's own), revocation answered by the policy, a child that ignores
// revocation, a child that survives repossession and is told what it
// lost, and one whose region pages are taken by force and read in again.

#include "user/tsupport.h"
#include "ulib/exos.h"

#define REGION  0x1000000000UL
#define NPAGES  128
#define WORD(i) ((volatile unsigned long *)(REGION + (i) * (unsigned long)PGSIZE))

static unsigned int blocks[NPAGES];
static int mru_calls;

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

// Do pages first .. first + n - 1 hold their number plus salt in their
// first and last words?
static int pages_hold(int first, int n, unsigned long salt)
{
  int ok = 1;
  for (int i = first; i < first + n; i++)
    ok &= WORD(i)[0] == i + salt && WORD(i)[PGSIZE / 8 - 1] == i + salt;
  return ok;
}

// Scan the region: page i's first and last words must hold i + salt.
static int scan_ok(unsigned long salt)
{
  return pages_hold(0, NPAGES, salt);
}

// Write i + salt to the first and last words of pages first .. first + n - 1.
static void fill_pages(int first, int n, unsigned long salt)
{
  for (int i = first; i < first + n; i++)
    WORD(i)[0] = WORD(i)[PGSIZE / 8 - 1] = i + salt;
}

// How many pages of the region are mapped with all of bits set.
static int region_pages_with(unsigned long bits)
{
  int n = 0;
  for (int i = 0; i < NPAGES; i++)
    n += (vm_pte((unsigned long)WORD(i)) & bits) == bits;
  return n;
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

#define PROBE         0x1100000000UL  // pages of the clock's own test (no region)
#define NPROBE        8
#define PROBE_PAGE(i) ((volatile unsigned long *)(PROBE + (i) * (unsigned long)PGSIZE))

// Load from every probe page but the ones in skip (a bit each): the
// hardware sets their PTE_A.
static void use_probe_pages(unsigned int skip)
{
  for (int i = 0; i < NPROBE; i++)
    if (!(skip >> i & 1))
      (void)*PROBE_PAGE(i);
}

// How many probe pages have all of bits set in their PTEs.
static int probe_pages_with(unsigned long bits)
{
  int n = 0;
  for (int i = 0; i < NPROBE; i++)
    n += (vm_pte(PROBE + i * PGSIZE) & bits) == bits;
  return n;
}

// The default clock on pages of its own, in a child (it is given a time
// limit there): it clears the accessed bits it passes and keeps the dirty
// ones, picks a page not used since the hand last passed, and its hand
// stays where the last sweep stopped (a sweep over pages all used ends
// where it began). An entry past the n it is given holds an unused page:
// a clock that looks there is off by one. Exits with the number of failed
// checks.
static void clock_probe(void)
{
  struct exos_resident pages[NPROBE + 1];
  for (int i = 0; i <= NPROBE; i++) {
    long p = vm_alloc(PROBE + i * PGSIZE, PTE_R | PTE_W);  // PTE_A and PTE_D set
    if (p < 0)
      exit(1);
    pages[i] = (struct exos_resident){.va = PROBE + i * PGSIZE, .ppn = p, .loaded = i};
  }
  vm_map_ad(pages[NPROBE].va, pages[NPROBE].ppn, PTE_R | PTE_W);
  int first = exos_policy_clock(pages, NPROBE);
  check("the clock, every page used: it picks one of the n", first >= 0 && first < NPROBE, 1);
  check("... after clearing the accessed bit (PTE_A) of every page it passed",
        probe_pages_with(PTE_A), 0);
  check("... keeping their dirty bits (PTE_D)", probe_pages_with(PTE_D), NPROBE);
  use_probe_pages(1 << 5);
  check("every page used again but page 5: the clock picks 5", exos_policy_clock(pages, NPROBE), 5);
  use_probe_pages(0);
  int hand = exos_policy_clock(pages, NPROBE);
  check("then every page: a full sweep from where the hand stopped picks 5 (or 6, past it), "
        "not 0",
        hand == 5 || hand == 6, 1);
  exit(failures);
}

// Run clock_probe in a child for at most 100 ms. Returns its failures.
static int clock_probe_in_child(void)
{
  int pid = fork(), status = -1;
  if (pid == 0)
    clock_probe();
  unsigned long end = sys_uptime() + MS(100);
  while (ENVINFO(pid)->id == (unsigned int)pid && (unsigned long)sys_uptime() < end)
    sys_yield(pid);
  if (ENVINFO(pid)->id == (unsigned int)pid) {
    printf("t_paging: the clock chose no page in 100 ms with every page used: a clock that "
           "never clears PTE_A sweeps for ever\n");
    kill(pid);
  }
  waitpid(pid, &status);
  return status;
}

// User pages env id owns, counted from the exported page table.
static long user_pages(unsigned int id)
{
  long n = 0;
  for (unsigned long p = SYSINFO->base_ppn; p < SYSINFO->base_ppn + SYSINFO->npages; p++)
    n += PAGEINFO(p)->owner == id && PAGEINFO(p)->type == PG_USER;
  return n;
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

// A child whose region pages are taken by force. In a critical section no
// upcall comes, so it cannot answer its own request for 4 pages, and the
// kernel takes the 4 it allocated last: region pages. Out of it, ExOS
// repairs: they are not resident, not lost, and read in again, right, from
// their blocks (which the parent's region_sync wrote). Exits with the
// number of failed checks.
static void forced_child(void)
{
  const volatile struct uarea *u = (const volatile struct uarea *)UAREA;
  if (setup_region() < 0)
    exit(1);
  region_set_allowance(8);
  unsigned long taken = u->repossessed_count, ins = exos_pageins;
  exos_critical_enter();
  check("child: read in 8 region pages", pages_hold(0, 8, 2000), 1);
  check("child: ask itself for 4 pages, in a critical section",
        sys_revoke(sys_getenvid(), REVOKE_PAGES, 4, MS(1)), 0);
  while (u->repossessed_count == taken)
    sys_yield(0);
  exos_critical_leave();
  sys_yield(0);  // the repair upcall
  check("child: the 4 region pages taken by force are no longer resident", region_resident(), 4);
  check("child: ... and not lost (their blocks hold them)", exos_pages_lost, 0);
  check("child: touched again, they read right", pages_hold(0, 8, 2000), 1);
  check("child: ... read in from their blocks", exos_pageins - ins, 12);
  exit(failures);
}

int main(int argc, char **argv)
{
  int clock_failures = clock_probe_in_child();
  check("the default clock, tried on pages of its own in a child", clock_failures, 0);
  if (clock_failures != 0)
    finish("t_paging");  // what follows needs a clock that works
  check("map a 128-page region over /pagefile", setup_region(), 0);
  check("a region over part of it is refused", region_map(REGION + 64 * PGSIZE, 128, blocks),
        -E_INVAL);
  check("a region reaching ExOS's own pages is refused",
        region_map(EXOS_SCRATCH - 4 * PGSIZE, 8, blocks), -E_INVAL);
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

  // A named page, just written to: the answer gives that one, written back.
  fill_pages(NPAGES - 1, 1, 3000);
  unsigned long ppn = PTE_PPN(vm_pte((unsigned long)WORD(NPAGES - 1)));
  check("ask for one named region page", ppn != 0 && sys_revoke(me, REVOKE_PAGE, ppn, MS(20)) == 0,
        1);
  let_run(40);
  check("... it was given back", PAGEINFO(ppn)->owner != me, 1);
  check("... by the policy: the kernel took nothing", u->repossessed_count, taken);
  check("... written back first: it reads what was stored", pages_hold(NPAGES - 1, 1, 3000), 1);
  fill_pages(NPAGES - 1, 1, 1000);

  // A time slice: the answer frees it.
  long slice = sys_slice_alloc(0, -1);
  check("ask for a time slice of this process's",
        slice >= 0 && sys_revoke(me, REVOKE_SLICE, slice, MS(20)) == 0, 1);
  let_run(40);
  check("... it was given back", ((const volatile unsigned int *)USLICES)[slice], 0);
  check("... by the answer: the kernel took nothing", u->repossessed_count, taken);

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

  // region_sync, then a child whose region pages are taken by force.
  fill_pages(0, 8, 2000);
  unsigned long outs = exos_pageouts;
  region_sync();
  check("region_sync writes back the 8 pages just written", exos_pageouts - outs, 8);
  check("... and leaves no page dirty", region_pages_with(PTE_D), 0);
  check("... and they still read right", pages_hold(0, 8, 2000), 1);
  pid = fork();
  if (pid == 0)
    forced_child();
  check("a child whose region pages were taken by force read them in again",
        waitpid(pid, &status) == pid && status == 0, 1);
  kcheck("revocation");
  finish("t_paging");
}
