// Siblings (kernel/abi.h, "Siblings"): environments that run in one
// address space, so that one program runs on several harts at once. A
// sibling shares its owner's memory and tables, allocates pages for the
// owner, and controls only environments of its own address space; a
// mapping broken in the shared tables is gone from every sibling's TLB when
// the call returns; and however the owner dies (destroyed by its parent,
// by its own exit, or by one of its siblings) while siblings run on other
// harts, or while they hold slices, a child, a disk read and a PCT call,
// every one of them dies with it and nothing is left behind. Runs
// on one hart too (where nothing runs elsewhere); the shootdown rounds
// need two.

#include "user/tsupport.h"

#define SIB_STACKS 0x1000000000UL  // stack k: the two pages below SIB_STACKS + (k + 1) * 64 KiB
#define WINDOW     0x1800000000UL  // page A or page B, by round (shootdowns)
#define PAGES      0x1800010000UL  // here: pages A and B, and a sibling's page
#define SIB_UAREA  0x1800020000UL  // a sibling's u-area, mapped by its owner
#define SHARED     0x2800000000UL  // in a child owner: the control page
#define PARENT     (SCRATCH + 0x10000)  // here: that control page
#define ROUNDS     300
#define TAG_A      0xAAAAAAAAUL
#define TAG_B      0xBBBBBBBBUL
#define NSIB       4  // siblings of a child owner

// What a child owner, its siblings and a server share with this program.
struct control {
  volatile unsigned long how;              // this program's: how the owner is to die (DIE_*)
  volatile unsigned long go;               // this program's: die now
  volatile unsigned long ready;            // the owner's: its siblings are started
  volatile unsigned long owner;            // the owner's id
  volatile unsigned long ids[NSIB];        // its siblings' ids
  volatile unsigned long spins[NSIB + 1];  // its siblings' counts, then its own
  // DIE_BUSY only:
  volatile unsigned long block;      // this program's: the disk block bound to the owner
  volatile unsigned long server;     // this program's: the server's id
  volatile unsigned long release;    // this program's: the server may answer now
  volatile long slices[2];           // the slicer's: the slices it holds
  volatile long nephew;              // the parent's: its child
  volatile long reads;               // the reader's: disk reads done or refused (< 0)
  volatile unsigned long in_call;    // the server's: it holds the caller's call
  volatile long reply;               // the server's: what its pct_reply returned
  volatile unsigned long answered;   // the server's: reply is written
};

enum { DIE_DESTROYED, DIE_EXIT, DIE_BY_SIBLING, DIE_BUSY };

// Shared between this program and its siblings (one address space).
static volatile unsigned long announced, seen, stale, spins[NSIB];
static volatile long got_word, got_owner, got_uarea, got_stranger, got_nephew, done;
static unsigned long stacks_mapped;  // bit k: sibling stack k is mapped
static long stranger;                // a child of this program's that is not a sibling

// Where a sibling goes when its function returns.
static void sibling_exit(void)
{
  sys_env_exit(0);
}

// Make a sibling named name that will run fn(arg) on stack k (mapped here
// the first time). Start it with sys_env_start. Returns its id or an error.
static long sibling(const char *name, void (*fn)(long), long arg, int k)
{
  long id = sys_env_create_sibling(name), err;
  if (id < 0)
    return id;
  unsigned long top = SIB_STACKS + (k + 1) * 0x10000UL;
  for (unsigned long va = top - 2 * PGSIZE; va < top && !(stacks_mapped & (1UL << k));
       va += PGSIZE) {
    long ppn = sys_page_alloc(0, 0, PG_USER);
    if (ppn < 0)
      return ppn;
    if ((err = aspace_map(&self, va, ppn, PTE_R | PTE_W)) < 0)
      return err;
  }
  stacks_mapped |= 1UL << k;
  struct user_regs r = {0};
  r.pc = (unsigned long)fn;
  r.sp = top;
  r.ra = (unsigned long)sibling_exit;
  r.a0 = arg;
  asm volatile("mv %0, gp" : "=r"(r.gp));  // (globals are reached through gp)
  if ((err = sys_env_set_regs(id, &r)) < 0)
    return err;
  return id;
}

// Does *word advance, counted by a sibling that runs on another hart (with
// one hart: that runs while this program yields)?
static int counting(volatile unsigned long *word)
{
  if (SYSINFO->harts_up >= 2)
    return beside(word);
  unsigned long from = *word;
  let_run(20);
  return *word > from;
}

// Run sibling id until it is gone (at most about a second).
static int run_sibling(long id)
{
  sys_env_start(id);
  unsigned long end = sys_uptime() + MS(1000);
  while (!gone_now(id) && !past(end))
    sys_yield(id);
  return gone_now(id);
}

// ---------------------------------------------------------------- basics

// The first sibling: write the owner's memory, read its own u-area where
// the owner mapped it, allocate a page (the owner's) and map it in the
// shared tables, try to destroy a child of the owner that is no sibling,
// make a sibling of its own.
static void worker(long word)
{
  got_word = word;
  got_uarea = ((const volatile struct uarea *)SIB_UAREA)->envid;
  long ppn = sys_page_alloc(0, 0, PG_USER);
  got_owner = ppn < 0 ? ppn : PAGEINFO(ppn)->owner;
  if (ppn >= 0 && aspace_map(&self, PAGES + 2 * PGSIZE, ppn, PTE_R | PTE_W) == 0)
    *(volatile unsigned long *)(PAGES + 2 * PGSIZE) = word + 1;
  got_stranger = sys_env_destroy(stranger);
  got_nephew = sys_env_create_sibling("nephew");
}

static void basics(void)
{
  long me = sys_getenvid();
  stranger = sys_env_create("stranger");
  long id = sibling("worker", worker, 42, 0);
  check("a sibling is made", id > 0, 1);
  stop_if_failed("t_sibling");
  unsigned long uarea = ENVINFO(id)->uarea_ppn;
  check("... a child of its owner", ENVINFO(id)->parent_id, me);
  check("... on its owner's tables", ENVINFO(id)->root_ppn, ENVINFO(me)->root_ppn);
  check("... its u-area is the owner's page", PAGEINFO(uarea)->owner, me);
  check("... which the owner maps", aspace_map(&self, SIB_UAREA, uarea, PTE_R), 0);
  check("it ran to its end", run_sibling(id), 1);
  check("... writing the owner's memory", got_word, 42);
  check("... reading its own u-area at the owner's mapping", got_uarea, id);
  check("... allocating a page that is the owner's", got_owner, me);
  check("... and mapping it in the shared tables", *(volatile unsigned long *)(PAGES + 2 * PGSIZE),
        43);
  check("... but it may not destroy the owner's other children", got_stranger, -E_PERM);
  check("... its own sibling is a child of the owner",
        got_nephew > 0 && ENVINFO(got_nephew)->parent_id == (unsigned int)me, 1);
  check("the dead sibling's u-area is free again", PAGEINFO(uarea)->owner, 0);
  check("the nephew destroyed", sys_env_destroy(got_nephew), 0);
  check("the stranger destroyed", sys_env_destroy(stranger), 0);
  kcheck("basics");
}

// ---------------------------------------------------------------- shootdowns

// The reader (a sibling, on another hart): keep WINDOW's translation warm
// in this hart's TLB; when a new round is announced, read WINDOW once more
// and count it stale unless it is the round's page.
static void reader(long unused)
{
  volatile unsigned long *w = (volatile unsigned long *)WINDOW;
  unsigned long last = 0;
  (void)unused;
  for (;;) {
    unsigned long r = announced;
    if (r == last) {
      (void)*w;
      continue;
    }
    asm volatile("fence r, r" ::: "memory");
    if (*w != (r % 2 ? TAG_B : TAG_A))
      stale++;
    seen = last = r;
    if (r == ROUNDS)
      return;
  }
}

// Round by round move WINDOW between pages A and B in the shared tables,
// and only then announce the round: the reader, a sibling on another hart,
// shares the tables and their ASID, and must never read the old page.
static void shootdowns(void)
{
  long a = sys_page_alloc(0, 0, PG_USER), b = sys_page_alloc(0, 0, PG_USER);
  aspace_map(&self, PAGES, a, PTE_R | PTE_W);
  aspace_map(&self, PAGES + PGSIZE, b, PTE_R | PTE_W);
  *(volatile unsigned long *)PAGES = TAG_A;
  *(volatile unsigned long *)(PAGES + PGSIZE) = TAG_B;
  aspace_map(&self, WINDOW, a, PTE_R);
  announced = seen = stale = 0;
  long id = sibling("reader", reader, 0, 1);
  sys_env_start(id);
  unsigned long done_rounds = 0;
  for (unsigned long r = 1; r <= ROUNDS; r++) {
    aspace_map(&self, WINDOW, r % 2 ? b : a, PTE_R);
    announced = r;
    if (!await(&seen, r))
      break;
    done_rounds = r;
  }
  check("a sibling reading on another hart saw every round", done_rounds, ROUNDS);
  check("... and never the page unmapped before the round", stale, 0);
  check("... and ended", gone(id), 1);
  aspace_unmap(&self, WINDOW);
  aspace_unmap(&self, PAGES);
  aspace_unmap(&self, PAGES + PGSIZE);
  sys_page_free(a);
  sys_page_free(b);
  kcheck("shootdowns");
}

// The writer (a sibling, on another hart): store through WINDOW for ever.
static void writer(long unused)
{
  (void)unused;
  for (;;)
    (*(volatile unsigned long *)WINDOW)++;
}

// A sibling storing through WINDOW on another hart, mapped writable, then
// read-only from here (the same page, fewer rights: the shortest path of a
// PTE write): once the call returns its stores must fault (it has no
// handler, so it dies), never land.
static void read_only(void)
{
  long a = sys_page_alloc(0, 0, PG_USER);
  aspace_map(&self, PAGES, a, PTE_R | PTE_W);
  aspace_map(&self, WINDOW, a, PTE_R | PTE_W);
  volatile unsigned long *count = (volatile unsigned long *)PAGES;
  *count = 0;
  long id = sibling("writer", writer, 0, 3);
  sys_env_start(id);
  int ran = counting(count);
  aspace_map(&self, WINDOW, a, PTE_R);
  unsigned long n = *count;
  for (volatile int i = 0; i < 100000; i++)
    ;
  check("a sibling storing on another hart through a mapping made read-only: no store lands "
        "after the call returns",
        ran && *count == n, 1);
  check("... it died of the fault", gone(id), 1);
  aspace_unmap(&self, WINDOW);
  aspace_unmap(&self, PAGES);
  sys_page_free(a);
  kcheck("read_only");
}

// ---------------------------------------------------------------- lifecycles

// A spinner (a sibling): count for ever.
static void spinner(long count)
{
  for (;;)
    (*(volatile unsigned long *)count)++;
}

// Destroy a sibling spinning on another hart, three times: gone when the
// call returns, stopped, and its u-area free again.
static void destroy_sibling(void)
{
  int ok = 0;
  for (int k = 0; k < 3; k++) {
    spins[0] = 0;
    long id = sibling("spinner", spinner, (long)&spins[0], 2);
    unsigned long uarea = ENVINFO(id)->uarea_ppn;
    sys_env_start(id);
    if (!counting(&spins[0]) || sys_env_destroy(id) != 0 || !gone_now(id))
      break;
    unsigned long n = spins[0];
    for (volatile int i = 0; i < 100000; i++)
      ;
    ok += spins[0] == n && PAGEINFO(uarea)->owner == 0;
  }
  check("a sibling spinning on another hart destroyed, three times: gone, stopped, freed", ok, 3);
  kcheck("destroy_sibling");
}

// The killer (a sibling of a child owner): count until told to go, then
// destroy the owner, and with it itself.
static void killer(long k)
{
  struct control *c = (struct control *)SHARED;
  while (!c->go)
    c->spins[k]++;
  sys_env_destroy(c->owner);
  for (;;)  // (never reached: it died with its owner)
    c->spins[k]++;
}

// A busy sibling (of an owner that is to die busy), by its number k:
// 0 holds two slices of a hart and spins in them, 1 has a child of its
// own, 2 reads a disk block again and again (a request is nearly always in
// flight), 3 waits in a PCT call that the server, on another hart, holds.
static void busy(long k)
{
  struct control *c = (struct control *)SHARED;
  long page = k == 2 ? sys_page_alloc(0, 0, PG_USER) : 0;  // (the owner's)
  if (k == 0)
    for (int i = 0; i < 2; i++)
      c->slices[i] = sys_slice_alloc(0, -1 - MAXHARTS);
  if (k == 1)
    c->nephew = sys_env_create("nephew");
  if (k == 3) {
    c->spins[k]++;
    while (sys_pct_call(0, 0, 0, 0, 0, 0, c->server) == -E_NOENTRY)
      sys_yield(0);  // (the server has not registered its entry yet)
  }
  for (;;) {
    if (k == 2) {
      long err = sys_disk_wait(sys_disk_io(c->block, page, 0));
      c->reads = err < 0 ? err : c->reads + 1;
    }
    c->spins[k]++;
  }
}

// A child owner (made by spawn_child, a copy of this program): start NSIB
// siblings that spin (the last a killer when it is to die by a sibling;
// busy ones, with the disk block bound to the reader, when it is to die
// busy), then spin itself; exit when told to if it is to die so.
static void owner(void)
{
  struct control *c = (struct control *)SHARED;
  aspace_init(&self, sys_getenvid());  // (the copy's was this program's)
  stacks_mapped = 0;
  c->owner = sys_getenvid();
  for (int k = 0; k < NSIB; k++) {
    int kill = k == NSIB - 1 && c->how == DIE_BY_SIBLING;
    long id = c->how == DIE_BUSY ? sibling("busy", busy, k, k)
                                 : sibling(kill ? "killer" : "spinner", kill ? killer : spinner,
                                           kill ? k : (long)&c->spins[k], k);
    c->ids[k] = id;
    if (id < 0 || (c->how == DIE_BUSY && k == 2 && sys_disk_bind(id, c->block, 1) < 0) ||
        sys_env_start(id) < 0)
      sys_env_exit(1);
  }
  c->ready = 1;
  while (!(c->go && c->how == DIE_EXIT))
    c->spins[NSIB]++;
  sys_env_exit(0);
}

// The server's PCT entry: a fresh stack, then server_call.
PCT_SERVER_ENTRY();

// Hold the call until this program releases it, then answer it and note
// what the answer returned (the caller is gone by then); spin for ever.
void server_call(long a0, long a1, long a2, long a3, long a4, long a5, long caller, long kind)
{
  struct control *c = (struct control *)SHARED;
  c->in_call = 1;
  while (!c->release)
    ;
  c->reply = sys_pct_reply(0, 0, 0, 0, 0, 0, caller);
  c->answered = 1;
  for (;;)
    ;
}

// A server (a child of this program's): accept calls, and spin.
static void server(void)
{
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)server_entry);
  for (;;)
    ;
}

// Make a child running fn, with the control page ppn mapped at SHARED, and
// start it. Returns its id, or -1.
static long child_with_control(const char *name, void (*fn)(void), long ppn)
{
  long id = spawn_child(name, fn);
  struct aspace child;
  aspace_init(&child, id);
  if (id < 0 || sys_page_grant(ppn, id, GRANT_R | GRANT_W) < 0 ||
      aspace_map(&child, SHARED, ppn, PTE_R | PTE_W) < 0 || sys_env_start(id) < 0)
    return -1;
  return id;
}

// Is everything in control page c as the owner's death, just now, leaves
// it: the owner's siblings gone, and nobody counting any more?
static int all_gone_and_still(struct control *c)
{
  int siblings_gone = 1;
  for (int k = 0; k < NSIB; k++)
    siblings_gone = siblings_gone && gone_now(c->ids[k]);
  unsigned long before[NSIB + 1];
  for (int k = 0; k <= NSIB; k++)
    before[k] = c->spins[k];
  for (volatile int i = 0; i < 100000; i++)
    ;
  int still = 1;
  for (int k = 0; k <= NSIB; k++)
    still = still && c->spins[k] == before[k];
  return siblings_gone && still;
}

// After an owner died busy: none of the slicer's slices is held, the
// parent's child lives on as this program's, and the server, answering
// the call of a caller that died, is told so and lives on. Destroys the
// child and the server.
static int busy_ends_well(struct control *c)
{
  const volatile unsigned int *slice_owner = (const volatile unsigned int *)USLICES;
  int ok = c->slices[0] >= 0 && c->slices[1] >= 0 && slice_owner[c->slices[0]] == 0 &&
           slice_owner[c->slices[1]] == 0;
  ok = ok && ENVINFO(c->nephew)->parent_id == (unsigned int)sys_getenvid() &&
       sys_env_destroy(c->nephew) == 0;
  c->release = 1;
  ok = ok && await(&c->answered, 1) && c->reply == -E_NOTWAITING && !gone_now(c->server);
  return ok && sys_env_destroy(c->server) == 0;
}

// An owner dies, however, while its siblings spin (on other harts, with
// several) or are busy (busy, above): each way three times. Afterwards the
// owner and every sibling are gone, nothing counts any more, and every page
// is free again.
static void owner_dies(int how, const char *what)
{
  struct control *c = (struct control *)PARENT;
  aspace_pt0(&self, PARENT);  // (the tables for PARENT and SCRATCH stay)
  unsigned long free0 = SYSINFO->nfree;
  int ok = 0, left = 0;
  for (int n = 0; n < 3; n++) {
    long ppn = sys_page_alloc(0, 0, PG_USER);
    aspace_map(&self, PARENT, ppn, PTE_R | PTE_W);
    memset((void *)c, 0, sizeof(*c));
    c->how = how;
    c->block = SYSINFO->disk_blocks - 1;
    long server_id = how == DIE_BUSY ? child_with_control("server", server, ppn) : 0;
    if (server_id < 0)
      break;
    c->server = server_id;
    long id = spawn_child("owner", owner);
    struct aspace child;
    aspace_init(&child, id);
    if (id < 0 || sys_page_grant(ppn, id, GRANT_R | GRANT_W) < 0 ||
        aspace_map(&child, SHARED, ppn, PTE_R | PTE_W) < 0 ||
        (how == DIE_BUSY && sys_disk_bind(id, c->block, 1) < 0) || sys_env_start(id) < 0)
      break;
    unsigned long end = sys_uptime() + MS(1000);
    int all = 0;
    while (!all && !past(end)) {
      all = c->ready && (how != DIE_BUSY || (c->in_call && c->reads >= 2));
      for (int k = 0; k <= NSIB; k++)
        all = all && c->spins[k] > 0;
      sys_yield(0);
    }
    if (!all)
      break;
    if (how == DIE_DESTROYED || how == DIE_BUSY) {
      if (sys_env_destroy(id) != 0 || !gone_now(id))
        break;
    } else {
      c->go = 1;
      if (!gone(id))
        break;
    }
    ok += all_gone_and_still(c) && (how != DIE_BUSY || busy_ends_well(c));
    aspace_unmap(&self, PARENT);
    sys_page_free(ppn);
    left += SYSINFO->nfree != free0;
  }
  printf("%s: ", what);
  check("its siblings died with it, three times", ok, 3);
  check("... and left no page behind", left, 0);
  kcheck(what);
}

int main(void)
{
  aspace_init(&self, sys_getenvid());
  basics();
  if (SYSINFO->harts_up >= 2)
    shootdowns();
  read_only();
  destroy_sibling();
  owner_dies(DIE_DESTROYED, "an owner destroyed by its parent");
  owner_dies(DIE_EXIT, "an owner that exits");
  owner_dies(DIE_BY_SIBLING, "an owner destroyed by its sibling");
  owner_dies(DIE_BUSY, "an owner destroyed while its siblings hold slices, a child, a disk "
                       "read and a PCT call");
  finish("t_sibling");
}
