// fuzz: a system-call fuzzer for the kernel.
//
//   fuzz [seed=N] [calls=N] [trace=N]
//
// What it does, and what it promises:
// - It makes `calls` system calls (default 100000, counting its children's),
//   each chosen and filled in from a random stream that depends only on the
//   seed. Arguments are biased to look valid: page numbers from its own
//   pool and from the exported page table (UPAGES), its own and its
//   children's ids, real page-table pages and indices, page-table entries
//   that are plausible leaves and links, rights, slices, block ranges,
//   request numbers; and now and then plain garbage.
// - It also runs ordered sequences, where kernels break: create, start,
//   call and destroy a server; disk I/O into a page, then free it or
//   destroy its owner; grant, map, then withdraw or destroy; a parent that
//   spawns a worker and dies first; wait for a worker that is running.
// - Children cooperate: workers run small fuzz loops of their own (bounded,
//   so they end), servers answer protected control transfers. Children are
//   built bare-handed (user/tsupport.h's spawn_child), with a page shared
//   with this program where they add up their calls.
// - It never stops itself on purpose: it does not destroy or exit itself
//   before the end, never frees, grants away or overwrites its own ExOS
//   pages (only pages of its pool, and its own root's entries FUZZ_I2..),
//   sets children's entry points only to code that answers or ends, waits
//   only for children that end, and never sleeps for input.
// - Every KCHECK_EVERY calls it runs kcheck; after every call it checks that
//   no kernel address was left in a register the kernel may change.
// - At the end it destroys what it made, checks that nothing escaped its
//   control, runs kcheck and prints one line:
//     fuzz: seed S: N calls (M here, K by C children), J kchecks: OK
//   (or "FAILED" with the reasons), and with several harts how many its
//   environments were seen running on. A broken invariant also prints the
//   last calls. Progress lines "fuzz: seed S: call N" come every 10000 of
//   its own calls, so a panic or hang can be placed; trace=N prints every
//   call of its own from number N on, and every call of children started
//   after that (for finding what broke the kernel);
//   avoid=N steps around known kernel bugs (the AVOID_* bits), to look for
//   others behind them.

#include "user/tsupport.h"

#define POOL         256             // pages this fuzzer allocated, remembered
#define NKIDS        12              // children alive at once, at most
#define FUZZ_I2      160             // root entries [FUZZ_I2, FUZZ_I2 + 16) are the fuzzer's
#define SHARED_VA    0x2E00000000UL  // the page shared with every child
#define SRV_STACKTOP (CHILD_STACKTOP - PGSIZE)
#define KCHECK_EVERY 2000
#define PROGRESS     10000
#define NRING        24    // calls kept for a report
#define MIN_FREE     2048  // allocate nothing when fewer pages are free
#define WORKER_CALLS 600   // a worker's loop
#define SYS_ENV_EXIT 4     // for die_entry's assembly
_Static_assert(SYS_ENV_EXIT == SYS_env_exit, "SYS_ENV_EXIT");

enum { KID_IDLE, KID_SERVER, KID_WORKER };

// The page shared with children: what they add up.
struct shared {
  long child_calls;     // calls made by children, added as they end
  long children;        // children that finished their loop
  unsigned long harts;  // the harts its environments were seen on (bit h: hart h)
};
#define SHARED ((volatile struct shared *)SHARED_VA)

// One call, for the report of the last ones.
struct rec {
  unsigned long n;
  int num;
  long a[7], ret;
};

// One fuzzer's state: the main program's, or a child's (reset at its start).
static struct fz {
  unsigned long rng;
  unsigned long calls, limit, trace;
  unsigned int me, parent;
  int is_main;
  unsigned long pool[POOL];  // ppn of a page we allocated (for ourselves or a kid)
  int npool;
  struct {
    unsigned int id;
    int kind;
  } kids[NKIDS];
  long reqs[DISK_REQUESTS];
  unsigned long kchecks, kfails, leaks;
  struct rec ring[NRING];
  struct pte_write batch[16];
  struct dpf_term terms[16];           // a packet filter to download (op_net)
  unsigned long net_ring[16];          // and its ring's pages (or a handler's)
  struct ash_insn ash[ASH_INSNS + 1];  // a handler to download (op_net)
  long net_filter;                     // the filter last installed
  struct user_regs regs;
} F;

// What a child is told: the snapshot of this program's data it starts
// from carries these.
static unsigned long kid_seed;
static unsigned int kid_server;   // a server a worker may call and send to
static int kid_sleeper;           // a server that waits with pct_accept(PCT_SLEEP)
static int kid_tree;              // a worker that spawns a worker, then ends first
static unsigned long shared_ppn;  // the page at SHARED_VA
static unsigned long main_seed;   // the seed of the whole run
static unsigned long avoid;       // known kernel bugs to step around (AVOID_*), for exploring
#define AVOID_PT0     1           // never name page 0 as a page-table page
#define AVOID_ORPHANS 2           // children destroy what they made before they end
#define AVOID_DISKIO  4           // no disk reads or writes (their pages can be freed under them)

static const char *names[] = {
#define SYSCALL_NAME(n, name, rtype, params) [n] = #name,
    SYSCALL_LIST(SYSCALL_NAME)
#undef SYSCALL_NAME
};

// The next pseudo-random number (xorshift64*): the seed alone decides the
// whole stream.
static unsigned long rnd(void)
{
  F.rng ^= F.rng >> 12;
  F.rng ^= F.rng << 25;
  F.rng ^= F.rng >> 27;
  return F.rng * 2685821657736338717UL;
}

// A number in [0, n).
static unsigned long below(unsigned long n)
{
  return (rnd() >> 11) % n;
}

// True with probability 1/n.
static int one_in(unsigned long n)
{
  return below(n) == 0;
}

// Print the last NRING calls this environment made, oldest first.
static void print_ring(void)
{
  printf("fuzz: env %x: the last calls, oldest first:\n", F.me);
  for (unsigned long n = F.calls > NRING ? F.calls - NRING : 0; n < F.calls; n++) {
    struct rec *r = &F.ring[n % NRING];
    printf("  #%lu %s(%lx, %lx, %lx, %lx, %lx, %lx, %lx) = %ld\n", r->n, names[r->num], r->a[0],
           r->a[1], r->a[2], r->a[3], r->a[4], r->a[5], r->a[6], r->ret);
  }
}

// A value a user register must never hold after a system call: an
// address of the kernel's half other than the exported tables.
static int kernel_address(unsigned long v)
{
  return v >= 0xFFFFFFC000000000UL && v < USYSINFO;
}

// Note in the shared page the hart this environment runs on now, by the
// exported table (with several harts, fuzzing environments should be seen
// on several).
static void note_hart(void)
{
  for (unsigned long h = 0; h < SYSINFO->harts_up; h++)
    if (SYSINFO->running[h] == F.me)
      __atomic_fetch_or(&SHARED->harts, 1UL << h, __ATOMIC_RELAXED);
}

// Make system call num with arguments a0..a6 (a6: the PCT calls' seventh):
// record it, trace it if asked, and check the registers the kernel hands
// back. Returns a0.
static long call7(int num, long a0, long a1, long a2, long a3, long a4, long a5, long a6)
{
  struct rec *r = &F.ring[F.calls % NRING];
  *r = (struct rec){F.calls, num, {a0, a1, a2, a3, a4, a5, a6}, 0};
  if (F.trace && F.calls >= F.trace) {
    if (!F.is_main)
      printf("[%x] ", F.me);
    printf("#%lu %s(%lx, %lx, %lx, %lx, %lx, %lx, %lx)", F.calls, names[num], a0, a1, a2, a3, a4,
           a5, a6);
  }
  register long x0 asm("a0") = a0, x1 asm("a1") = a1, x2 asm("a2") = a2, x3 asm("a3") = a3;
  register long x4 asm("a4") = a4, x5 asm("a5") = a5, x6 asm("a6") = a6, x7 asm("a7") = num;
  register long t0 asm("t0") = 0, t1 asm("t1") = 0, t2 asm("t2") = 0, t3 asm("t3") = 0;
  register long t4 asm("t4") = 0, t5 asm("t5") = 0, t6 asm("t6") = 0;
  asm volatile("ecall"
               : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7),
                 "+r"(t0), "+r"(t1), "+r"(t2), "+r"(t3), "+r"(t4), "+r"(t5), "+r"(t6)
               :
               : "memory");
  long after[14] = {x1, x2, x3, x4, x5, x6, x7, t0, t1, t2, t3, t4, t5, t6};
  static const char *regname[14] = {"a1", "a2", "a3", "a4", "a5", "a6", "a7",
                                    "t0", "t1", "t2", "t3", "t4", "t5", "t6"};
  r->ret = x0;
  if (F.calls++ % 64 == 0)
    note_hart();
  if (F.trace && F.calls > F.trace)
    printf(" = %ld\n", x0);
  for (int i = 0; i < 14; i++) {
    if (kernel_address(after[i]) && (i >= 6 || after[i] != r->a[i + 1])) {
      if (F.leaks++ == 0)  // (counted; the first one shown)
        printf("fuzz: FAIL: env %x: kernel address %lx left in %s after call #%lu %s\n", F.me,
               after[i], regname[i], r->n, names[num]);
    }
  }
  return x0;
}

// The other calls have six arguments at most.
static long call(int num, long a0, long a1, long a2, long a3, long a4, long a5)
{
  return call7(num, a0, a1, a2, a3, a4, a5, 0);
}

// ---------------------------------------------------------------- choosing arguments

// How many children we remember.
static int nkids(void)
{
  int n = 0;
  for (int i = 0; i < NKIDS; i++)
    n += F.kids[i].id != 0;
  return n;
}

// Forget children that no longer exist.
static void prune_kids(void)
{
  for (int i = 0; i < NKIDS; i++)
    if (F.kids[i].id && ENVINFO(F.kids[i].id)->id != F.kids[i].id)
      F.kids[i].id = 0;
}

// Remember child id (if it is one: id > 0) of the given kind, if there is room.
static void add_kid(long id, int kind)
{
  if (id <= 0)
    return;
  for (int i = 0; i < NKIDS; i++)
    if (F.kids[i].id == 0) {
      F.kids[i].id = id;
      F.kids[i].kind = kind;
      return;
    }
}

// A child of the given kind (-1: any), or 0 if there is none.
static unsigned int a_kid(int kind)
{
  int start = below(NKIDS);
  for (int i = 0; i < NKIDS; i++) {
    int k = (start + i) % NKIDS;
    if (F.kids[k].id && (kind < 0 || F.kids[k].kind == kind))
      return F.kids[k].id;
  }
  return 0;
}

// Any environment id: garbage, one a slot had or will have, or one in the table.
static unsigned long any_id(void)
{
  switch (below(5)) {
  case 0:
    return 0xFFFFFFFFUL;
  case 1:
    return rnd();  // beyond 32 bits, mostly
  case 2:
    return (below(SYSINFO->nenv) | (below(4) << 8)) ?: 1;
  default:
    return ENVINFO(below(SYSINFO->nenv))->id;
  }
}

// An environment id that is surely not ours to stop for good: garbage, a
// freed slot's old id, or anyone in the table. Never 0 or our own id.
static unsigned long a_stranger(void)
{
  unsigned long id = any_id();
  return id == 0 || id == F.me ? 0xFFFFFFFEUL : id;
}

// A target for calls that are harmless to ourselves: 0 (ourselves) often,
// a child, or a stranger.
static unsigned long an_env(void)
{
  unsigned int k;
  switch (below(6)) {
  case 0:
  case 1:
    return 0;
  case 2:
    return F.me;
  case 5:
    return a_stranger();
  default:
    return (k = a_kid(-1)) ? k : F.parent;
  }
}

// A child (any kind), else a stranger: for calls that would stop us.
static unsigned long other_env(void)
{
  unsigned int k = a_kid(-1);
  return k && !one_in(6) ? k : a_stranger();
}

// Remember page ppn (if it is one: ppn > 0), forgetting the oldest when full.
static void pool_add(long ppn)
{
  if (ppn > 0)
    F.pool[F.npool++ % POOL] = ppn;
}

// A page number: from our pool, a random page of RAM that is not ours
// (ours may be ExOS's own), or garbage.
static unsigned long a_ppn(void)
{
  const struct sysinfo *si = SYSINFO;
  int n = F.npool < POOL ? F.npool : POOL;
  switch (below(8)) {
  case 0:
    switch (below(5)) {
    case 0:
      return 0;
    case 1:
      return si->base_ppn - 1;
    case 2:
      return si->base_ppn + si->npages;
    case 3:
      return si->base_ppn;  // the firmware's or the kernel's
    default:
      return rnd();
    }
  case 1:
  case 2: {
    for (int tries = 0; tries < 8; tries++) {
      unsigned long ppn = si->base_ppn + below(si->npages);
      const struct page_info *pi = PAGEINFO(ppn);
      if (pi->owner != F.me && (pi->owner != 0 || one_in(4)))
        return ppn;
    }
    return si->base_ppn + si->npages - 1;
  }
  default:
    return n ? F.pool[below(n)] : si->base_ppn;
  }
}

// A page-table page of the fuzzer's pool or of a child (its root), or
// something that is not one.
static unsigned long a_table(void)
{
  unsigned int k;
  unsigned long ppn;
  if (one_in(3) && (k = a_kid(-1)))
    ppn = ENVINFO(k)->root_ppn;  // (0 if it has just ended)
  else if (one_in(6))
    ppn = ENVINFO(F.me)->root_ppn;  // with an index of the fuzzer's own (see an_index)
  else
    ppn = a_ppn();
  return ppn == 0 && (avoid & AVOID_PT0) ? 1 : ppn;
}

// An index for table pt: in our own root, only the fuzzer's entries (or
// refused ones); elsewhere any, or out of range.
static unsigned long an_index(unsigned long pt)
{
  if (pt == ENVINFO(F.me)->root_ppn)
    return one_in(8) ? 256 + below(300) : FUZZ_I2 + below(16);
  return one_in(16) ? 512 + below(4) : below(NPTENTRIES);
}

// A page-table entry: empty, a leaf with random bits, a link, or junk.
static unsigned long a_pte(void)
{
  unsigned long bits;
  switch (below(8)) {
  case 0:
    return 0;
  case 1:
    return rnd();
  case 2:
  case 3:  // a link
    return PA2PTE(a_table() << 12) | PTE_V | (one_in(8) ? (rnd() & 0x3FE) : 0);
  case 4:  // any bits
    return PA2PTE(a_ppn() << 12) | (rnd() & 0x3FF) | (one_in(8) ? 1UL << (54 + below(10)) : 0);
  default:  // a plausible leaf
    bits = PTE_V | PTE_U | PTE_R | (rnd() & (PTE_W | PTE_X | PTE_A | PTE_D | (3 << 8)));
    if (one_in(10))
      bits ^= PTE_U | PTE_G;
    return PA2PTE(a_ppn() << 12) | bits;
  }
}

// An entry address for a child: code that answers or ends, or nothing.
extern void srv_entry(void), die_entry(void);
static unsigned long an_entry(int kind, int which)
{
  switch (below(6)) {
  case 0:
    return 0;
  case 1:
    return 0x5000;  // unmapped
  case 2:
    return 0xFFFFFFC080200000UL;  // the kernel's
  case 3:
    return (unsigned long)die_entry;
  default:
    return kind == KID_SERVER && which == ENTRY_PCT ? (unsigned long)srv_entry
                                                    : (unsigned long)die_entry;
  }
}

// ---------------------------------------------------------------- children

// A server's PCT entry: a fresh stack on the lower page of its stack, then C.
void srv_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind);
asm(".globl srv_entry\n"
    "srv_entry:\n"
    "  li sp, 0x2FFFFFF000\n"
    "  j srv_call\n");
_Static_assert(SRV_STACKTOP == 0x2FFFFFF000UL, "srv_entry's stack");

// An entry that ends the environment at once, needing no stack (one that
// did could fault again and again in a child whose stack is gone).
asm(".globl die_entry\n"
    "die_entry:\n"
    "  li a0, 0\n"
    "  li a7, " XSTR(SYS_ENV_EXIT) "\n"
                                   "  ecall\n");

// Answer one transfer according to op; asynchronous ones are not answered.
// Then wait for the next (the interrupted loop is not resumed).
void srv_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind)
{
  if (kind == PCT_SYNC) {
    switch ((unsigned long)op % 8) {
    case 0:
      sys_env_exit(0);  // dies with a caller waiting
      break;
    case 1:
      sys_pct_accept((x & 0xFFFFFFFFUL) | PCT_ONCE);  // the reply accepts caller x again
      break;
    case 2:
      sys_pct_reply(0, 0, 0, 0, 0, 0, ENVINFO(0)->id);  // to nobody waiting
      break;
    case 3:
      sys_pct_call(1, 2, 3, 4, 5, 6, caller);  // call our caller back
      break;
    case 4:
    case 5:
      for (int i = 0; i < y % 4 + 1; i++)  // a slow answer: the caller may be destroyed
        sys_yield(0);
      break;
    }
    sys_pct_reply(op, x + y, caller, 0, 0, 0, caller);
  }
  for (;;)
    kid_sleeper ? sys_pct_accept(PCT_SLEEP | PCT_ONCE) : sys_yield(0);
}

// A server: register the PCT entry, accept one call at a time (a second
// caller, while one is served, would restart the stack under the first),
// and wait for calls.
static void server_main(void)
{
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)srv_entry);
  sys_pct_accept(PCT_ONCE);
  for (;;)
    kid_sleeper ? sys_pct_accept(PCT_SLEEP | PCT_ONCE) : sys_yield(0);
}

static void fuzz_loop(void);
static long spawn_kid(const char *name, void (*fn)(void), int kind);

// Add this child's calls to the tally in the shared page, if its record
// is one its loop could have left: its parent's fuzzing may remap the
// child's own pages under it (the parent controls the child's tables),
// leaving F garbage. (A child's loop is too short to kcheck.) Children on
// other harts may end at the same time.
static void report(void)
{
  if (F.me != sys_getenvid() || F.limit != WORKER_CALLS || F.calls > F.limit + 64) {
    printf("fuzz: child %lx: its record was overwritten (its parent remapped its pages)\n",
           sys_getenvid());
    return;
  }
  __atomic_fetch_add(&SHARED->child_calls, F.calls, __ATOMIC_RELAXED);
  __atomic_fetch_add(&SHARED->children, 1, __ATOMIC_RELAXED);
}

// A worker: a short fuzz loop of its own (seeded by its parent), then it
// adds its calls to the shared page and ends. A tree worker first spawns
// a worker of its own and then ends before it.
static void worker_main(void)
{
  unsigned long seed = kid_seed;
  int tree = kid_tree, trace = F.trace != 0;
  unsigned int parent = F.me;
  memset(&F, 0, sizeof(F));
  F.trace = trace;  // every call, once the parent traces
  F.me = sys_getenvid();
  F.parent = parent;
  F.rng = seed | 1;
  F.limit = WORKER_CALLS;
  aspace_init(&self, F.me);
  if (tree) {
    kid_seed = rnd();
    kid_tree = 0;
    long k = spawn_kid("orphan", worker_main, KID_WORKER);
    if (k > 0)
      sys_env_start(k);
    F.calls += 2;
  } else {
    fuzz_loop();
  }
  if (avoid & AVOID_ORPHANS)
    for (int i = 0; i < NKIDS; i++)
      if (F.kids[i].id)
        call(SYS_env_destroy, F.kids[i].id, 0, 0, 0, 0, 0);
  report();
  sys_env_exit(0);
}

// Spawn a child running fn, with the shared page mapped at SHARED_VA;
// remember it. Returns its id or an error.
static long spawn_kid(const char *name, void (*fn)(void), int kind)
{
  if (nkids() >= NKIDS || SYSINFO->nfree < MIN_FREE)
    return -E_NOMEM;
  long id = spawn_child(name, fn), err;
  if (id < 0)
    return id;
  add_kid(id, kind);
  struct aspace as;
  aspace_init(&as, id);
  if ((err = sys_page_grant(shared_ppn, id, GRANT_R | GRANT_W)) < 0 ||
      (err = aspace_map(&as, SHARED_VA, shared_ppn, PTE_R | PTE_W)) < 0)
    return err;
  return id;
}

// ---------------------------------------------------------------- single calls

// Allocate a page of a random type for ourselves or a child, or a specific
// page; keep it in the pool.
static void op_page_alloc(void)
{
  static const int types[] = {PG_USER, PG_USER,  PG_USER,   PG_PT0,  PG_PT1,
                              PG_PT2,  PG_UAREA, PG_KERNEL, PG_FREE, 99};
  if (SYSINFO->nfree < MIN_FREE)
    return;
  unsigned long who = one_in(3) ? a_kid(-1) : 0;
  unsigned long ppn = one_in(4) ? a_ppn() : 0;
  pool_add(call(SYS_page_alloc, one_in(20) ? a_stranger() : who, ppn, types[below(10)], 0, 0, 0));
}

// Free a page: ours from the pool, a child's, or one we may not free.
static void op_page_free(void)
{
  call(SYS_page_free, a_ppn(), 0, 0, 0, 0, 0);
}

// Grant (or withdraw, rights 0) a page to someone, with rights or garbage.
static void op_page_grant(void)
{
  unsigned long to = one_in(8) ? 0 : an_env();
  call(SYS_page_grant, a_ppn(), to, one_in(10) ? rnd() : below(16) & ~1UL, 0, 0, 0);
}

// Write one entry of a table: ours, a child's or none.
static void op_pte_write(void)
{
  unsigned long pt = a_table();
  call(SYS_pte_write, pt, an_index(pt), a_pte(), 0, 0, 0);
}

// Write up to 16 entries at once, or pass a bad array or count.
static void op_pte_write_batch(void)
{
  unsigned long n = 1 + below(16);
  for (unsigned long i = 0; i < n; i++) {
    unsigned long pt = a_table();
    F.batch[i] = (struct pte_write){pt, an_index(pt), a_pte()};
  }
  long where = (long)F.batch;
  if (one_in(10))
    where = one_in(2) ? 0x1000 : 0xFFFFFFC080200000L;
  call(SYS_pte_write_batch, where, one_in(10) ? rnd() : n, 0, 0, 0, 0);
}

// Give the rest of the slice to anyone (0: to whoever the kernel picks).
static void op_yield(void)
{
  call(SYS_yield, one_in(2) ? 0 : an_env(), 0, 0, 0, 0, 0);
}

// Allocate a slice (any or a given position) to us, a child or a stranger.
static void op_slice_alloc(void)
{
  long pos = one_in(3) ? -1 : (long)below(NSLICES + 2);
  call(SYS_slice_alloc, an_env(), one_in(20) ? (long)rnd() : pos, 0, 0, 0, 0);
}

// Free a slice position, ours or not.
static void op_slice_free(void)
{
  call(SYS_slice_free, one_in(20) ? rnd() : below(NSLICES), 0, 0, 0, 0, 0);
}

// A call with little to check: getenvid, uptime, cgetc, cputs of bad
// memory or nothing, or a call number that does not exist.
static void op_small(void)
{
  static const int nums[] = {SYS_getenvid, SYS_uptime, SYS_cgetc, SYS_cputs, SYS_cputs, 0};
  int num = nums[below(6)];
  if (num == SYS_cputs)
    call(num, one_in(2) ? 0x1000 : (long)"", one_in(2) ? 0 : (long)rnd() | 1, 0, 0, 0, 0);
  else if (num == 0)
    call(40 + below(30), rnd(), 0, 0, 0, 0, 0);  // no such call
  else
    call(num, 0, 0, 0, 0, 0, 0);
}

// Create an idle child (never started unless op_env_start does), one in
// four a sibling in this address space, or pass a bad or overlong name.
static void op_env_create(void)
{
  long name = (long)"fz";
  if (one_in(8))
    name = one_in(2) ? 0x1000 : (long)"an overlong name, refused";
  if (nkids() >= NKIDS || (!F.is_main && (avoid & AVOID_ORPHANS)))
    return;
  add_kid(call(one_in(4) ? SYS_env_create_sibling : SYS_env_create, name, 0, 0, 0, 0, 0), KID_IDLE);
}

// Destroy a child, or try a stranger.
static void op_env_destroy(void)
{
  call(SYS_env_destroy, other_env(), 0, 0, 0, 0, 0);
  prune_kids();
}

// The kind of child id, or -1 if it is not ours.
static int kind_of(unsigned long id)
{
  for (int i = 0; i < NKIDS; i++)
    if (F.kids[i].id && F.kids[i].id == id)
      return F.kids[i].kind;
  return -1;
}

// Set an entry of a child (or a stranger) to one that answers or ends;
// the declared words and ranges (ENTRY_CRITICAL...) to any address.
static void op_env_set_entry(void)
{
  unsigned long k = other_env();
  int which = one_in(10) ? (int)below(20) : (int)below(NENTRIES);
  unsigned long va = an_entry(kind_of(k), which);
  if (which >= ENTRY_CRITICAL && which < NENTRIES)
    va = one_in(2) ? (unsigned long)&kid_seed : below(0x40000) * 4;
  call(SYS_env_set_entry, k, which, va, 0, 0, 0);
}

// Set a child's registers: its pc an entry that answers or ends.
static void op_env_set_regs(void)
{
  unsigned long k = other_env();
  memset(&F.regs, 0, sizeof(F.regs));
  F.regs.pc = an_entry(kind_of(k), ENTRY_EXCEPTION);
  F.regs.sp = one_in(2) ? CHILD_STACKTOP : rnd();
  F.regs.a0 = rnd();
  call(SYS_env_set_regs, k, one_in(10) ? 0x1000 : (long)&F.regs, 0, 0, 0, 0);
}

// Set a child's exception stack, often starting at 0, sometimes reversed.
static void op_env_set_xstack(void)
{
  unsigned long lo = one_in(3) ? 0 : below(1UL << 38) & ~0xFFFUL, hi = lo + below(8) * PGSIZE;
  if (one_in(4))
    hi = rnd();
  call(SYS_env_set_xstack, other_env(), lo, hi, 0, 0, 0);
}

// Start a child (or a stranger, or one already running).
static void op_env_start(void)
{
  call(SYS_env_start, other_env(), 0, 0, 0, 0, 0);
}

// Call a server (it answers, refuses or dies), or someone that is not one.
static void op_pct_call(void)
{
  unsigned long k = a_kid(KID_SERVER);
  if (k == 0 || one_in(5))
    k = one_in(2) ? a_kid(KID_IDLE) : a_stranger();
  call7(SYS_pct_call, below(12), rnd() & 0xFFFF, below(100), 0, 0, 0, k ? k : 0xFFFFFFFFUL);
}

// Send an asynchronous transfer to a server, or to anyone.
static void op_pct_send(void)
{
  unsigned long k = a_kid(KID_SERVER);
  call7(SYS_pct_send, below(12), 0, 0, 0, 0, 0, k && !one_in(4) ? k : other_env());
}

// Reply to someone who is (most likely) not waiting for us.
static void op_pct_reply(void)
{
  call7(SYS_pct_reply, 1, 2, 3, 4, 5, 6, one_in(3) ? 0 : an_env());
}

// Whom we accept calls from (never sleeping for one: nobody would call).
static void op_pct_accept(void)
{
  unsigned long from = one_in(2) ? 0 : one_in(2) ? PCT_NOBODY : an_env();
  call(SYS_pct_accept, from | (one_in(2) ? PCT_ONCE : 0) | (one_in(20) ? 1UL << 40 : 0), 0, 0, 0, 0,
       0);
}

// Ask a child (or a stranger) for pages, a page or a slice back, soon.
static void op_revoke(void)
{
  unsigned long kind = one_in(10) ? below(10) : below(3);
  unsigned long arg = kind == REVOKE_PAGE    ? a_ppn()
                      : kind == REVOKE_SLICE ? below(NSLICES)
                                             : below(40);
  call(SYS_revoke, other_env(), kind, arg, one_in(3) ? 0 : below(100000), 0, 0);
}

// Bind or unbind blocks, read or write a block to a page, or look at
// or wait for a request.
static void op_disk(void)
{
  unsigned long nb = SYSINFO->disk_blocks ?: 1;
  unsigned long start = one_in(10) ? rnd() : below(nb), count = one_in(10) ? rnd() : 1 + below(64);
  long r;
  switch (below(6)) {
  case 0:
    call(SYS_disk_bind, an_env(), start, count, 0, 0, 0);
    break;
  case 1:
    call(SYS_disk_unbind, F.is_main ? other_env() : an_env(), start, count, 0, 0, 0);
    break;
  case 2:
  case 3:
    if (avoid & AVOID_DISKIO)
      break;
    r = call(SYS_disk_io, start, a_ppn(), one_in(8) ? below(4) : below(2), 0, 0, 0);
    if (r >= 0)
      F.reqs[below(DISK_REQUESTS)] = r;
    break;
  default:
    r = one_in(4) ? (long)rnd() : F.reqs[below(DISK_REQUESTS)];
    call(one_in(2) ? SYS_disk_status : SYS_disk_wait, r, 0, 0, 0, 0, 0);
  }
}

// A handler of n instructions in F.ash: now and then an instruction of
// random bytes, mostly ones that look valid (registers, forward jumps
// and constants in range), a RET at the end.
static void random_handler(unsigned long n)
{
  static const unsigned char ops[] = {ASH_MOV,  ASH_ADD,  ASH_LDF2, ASH_LDP4, ASH_STP1,
                                      ASH_COPY, ASH_CSUM, ASH_SEND, ASH_JEQ,  ASH_JLT};
  for (unsigned long i = 0; i < n; i++) {
    struct ash_insn *in = &F.ash[i];
    unsigned long r = rnd();
    if (one_in(20)) {
      memmove(in, &r, sizeof(*in));
      continue;
    }
    int op = ops[below(sizeof(ops))], jump = op == ASH_JEQ || op == ASH_JLT;
    int uses_c = op == ASH_COPY || op == ASH_CSUM || op == ASH_SEND;
    unsigned long ahead = n - i - 1;  // instructions after this one
    *in = (struct ash_insn){op, op == ASH_SEND ? 0 : 1 + below(ASH_REGS - 1), below(ASH_REGS),
                            jump     ? below(ahead > 1 ? ahead - 1 : 1)
                            : uses_c ? below(ASH_REGS)
                                     : 0,
                            one_in(8) ? r : below(1500)};
  }
  if (n > 0 && !one_in(20))
    F.ash[n - 1] = (struct ash_insn){ASH_RET, 0, 0, 0, below(2)};
}

// Download a packet filter (random terms, sometimes ORs or none, a ring
// of pages from the pool: ours, a child's, the kernel's) or a handler
// (random code and pages), remove one, send bytes of a page, or look at a
// send or a filter's frames; never a wait that could block (nothing
// arrives while fuzzing: the wait names more frames than came).
static void op_net(void)
{
  static const unsigned short lengths[] = {1, 2, 4, 3};
  unsigned long n = one_in(10) ? rnd() : one_in(20) ? 0 : 1 + below(4);
  unsigned long np = one_in(10) ? rnd() : 1 + below(4);
  switch (below(6)) {
  case 0:
  case 1:
    for (int i = 0; i < 16; i++) {
      unsigned int len = lengths[below(one_in(10) ? 4 : 3)];
      unsigned int mask = one_in(4) ? (unsigned int)rnd() : len >= 4 ? ~0U : (1U << 8 * len) - 1;
      F.terms[i] = (struct dpf_term){one_in(10) ? rnd() : below(64), len, mask, rnd() & mask};
      if (one_in(6))
        F.terms[i] = DPF_OR;
      F.net_ring[i] = a_ppn();
    }
    long f =
        call(SYS_net_filter, one_in(10) ? 0x1000 : (long)F.terms, n, (long)F.net_ring, np, 0, 0);
    F.net_filter = f >= 0 ? f : F.net_filter;
    break;
  case 4:
    n = one_in(10) ? rnd() : below(ASH_INSNS + 2);
    random_handler(n > ASH_INSNS ? ASH_INSNS + 1 : n);
    for (int i = 0; i < 16; i++)
      F.net_ring[i] =
          one_in(2) && F.npool > 0 ? F.pool[below(F.npool < POOL ? F.npool : POOL)] : a_ppn();
    call(SYS_net_handler, one_in(4) ? (long)below(64) : F.net_filter,
         one_in(10) ? 0x1000 : (long)F.ash, n, (long)F.net_ring, one_in(2) ? 1 : np, 0);
    break;
  case 2:
    call(SYS_net_unfilter, one_in(4) ? rnd() : below(64), 0, 0, 0, 0, 0);
    break;
  case 3:
    call(SYS_net_send, a_ppn(), one_in(4) ? rnd() : below(PGSIZE),
         one_in(4) ? rnd() : 14 + below(1501), 0, 0, 0);
    break;
  default:
    call(SYS_net_status, one_in(4) ? rnd() : below(32), 0, 0, 0, 0, 0);
    call(SYS_net_wait, one_in(2) ? rnd() : below(64), 1UL << 40, 0, 0, 0, 0);
  }
}

// Wait only for what ends: a worker, or an id that names nobody.
static void op_env_wait(void)
{
  unsigned long k = a_kid(KID_WORKER);
  if (k == 0 || one_in(4))
    k = one_in(2) ? 0xFFFFFFFFUL : 0x100000000UL;
  call(SYS_env_wait, k, one_in(8) ? rnd() : 0, 0, 0, 0, 0);
  prune_kids();
}

// Run kcheck; on its first failures print the calls that led there.
static void do_kcheck(void)
{
  F.kchecks++;
  if (call(SYS_kcheck, 0, 0, 0, 0, 0, 0) != 0) {
    if (F.kfails++ < 2)
      print_ring();
  }
}

// ---------------------------------------------------------------- sequences

// Create a server, start it, call it a few times, maybe destroy it.
static void seq_server(void)
{
  kid_sleeper = one_in(3);
  long k = spawn_kid(kid_sleeper ? "sleeper" : "server", server_main, KID_SERVER);
  if (k < 0)
    return;
  call(SYS_env_start, k, 0, 0, 0, 0, 0);
  if (!kid_sleeper || one_in(2))
    call(SYS_yield, k, 0, 0, 0, 0, 0);  // let it register (a sleeper: not always)
  for (int i = below(4); i > 0; i--)
    call7(SYS_pct_call, below(12), i, i, 0, 0, 0, k);
  if (one_in(2))
    call(SYS_env_destroy, k, 0, 0, 0, 0, 0);
  prune_kids();
}

// Start a worker (maybe one that spawns a worker and ends first), then
// perhaps wait for it, or destroy it while it runs.
static void seq_worker(void)
{
  kid_seed = rnd();
  kid_tree = one_in(3) && !(avoid & AVOID_ORPHANS);
  kid_server = a_kid(KID_SERVER);
  long k = spawn_kid(kid_tree ? "tree" : "worker", worker_main, KID_WORKER);
  if (k < 0)
    return;
  call(SYS_env_start, k, 0, 0, 0, 0, 0);
  switch (below(4)) {
  case 0:
    call(SYS_env_wait, k, 0, 0, 0, 0, 0);
    break;
  case 1:
    call(SYS_yield, k, 0, 0, 0, 0, 0);
    call(SYS_env_destroy, k, 0, 0, 0, 0, 0);
    break;
  }
  prune_kids();
}

// Disk I/O into a page, then free the page or destroy its owner at once.
static void seq_disk_then_free(void)
{
  if (SYSINFO->nfree < MIN_FREE || (avoid & AVOID_DISKIO))
    return;
  unsigned long k = one_in(2) ? a_kid(KID_IDLE) : 0;
  long p = call(SYS_page_alloc, k, 0, PG_USER, 0, 0, 0);
  if (p < 0)
    return;
  call(SYS_disk_io, below(SYSINFO->disk_blocks ?: 1), p, below(2), 0, 0, 0);
  if (k && one_in(2)) {
    call(SYS_env_destroy, k, 0, 0, 0, 0, 0);
    prune_kids();
  } else {
    call(SYS_page_free, p, 0, 0, 0, 0, 0);
  }
  pool_add(p);  // (freed, or not yet: either way a good name to try)
}

// Grant one of our pages to a child, map it there, then withdraw the
// grant, free the page or destroy the child.
static void seq_grant(void)
{
  unsigned long k = a_kid(-1);
  if (k == 0 || ENVINFO(k)->id != k || SYSINFO->nfree < MIN_FREE)
    return;
  long p = call(SYS_page_alloc, 0, 0, PG_USER, 0, 0, 0);
  long t1 = call(SYS_page_alloc, k, 0, PG_PT1, 0, 0, 0);
  long t0 = call(SYS_page_alloc, k, 0, PG_PT0, 0, 0, 0);
  pool_add(p), pool_add(t1), pool_add(t0);
  unsigned long i2 = FUZZ_I2 + below(16);
  call(SYS_page_grant, p, k, GRANT_R | GRANT_W, 0, 0, 0);
  call(SYS_pte_write, ENVINFO(k)->root_ppn ?: 1, i2, PA2PTE(t1 << 12) | PTE_V, 0, 0, 0);
  call(SYS_pte_write, t1, below(512), PA2PTE(t0 << 12) | PTE_V, 0, 0, 0);
  call(SYS_pte_write, t0, below(512), PA2PTE(p << 12) | PTE_V | PTE_U | PTE_R | PTE_W, 0, 0, 0);
  switch (below(3)) {
  case 0:
    call(SYS_page_grant, p, k, below(2) ? GRANT_R : 0, 0, 0, 0);
    break;
  case 1:
    call(SYS_page_free, p, 0, 0, 0, 0, 0);
    break;
  default:
    call(SYS_env_destroy, k, 0, 0, 0, 0, 0);
    prune_kids();
  }
}

// ---------------------------------------------------------------- the loop

// What the loop chooses from: an operation, its weight, and whether only
// the main program does it (it needs the main program's knowledge of
// which children end).
struct op {
  void (*fn)(void);
  int weight;
  int main_only;
};

static const struct op ops[] = {
    {op_page_alloc, 36, 0},     {op_page_free, 18, 0},       {op_page_grant, 18, 0},
    {op_pte_write, 48, 0},      {op_pte_write_batch, 12, 0}, {op_yield, 9, 0},
    {op_slice_alloc, 9, 0},     {op_slice_free, 9, 0},       {op_small, 9, 0},
    {op_env_create, 6, 0},      {op_env_destroy, 6, 0},      {op_env_set_entry, 9, 0},
    {op_env_set_regs, 6, 0},    {op_env_set_xstack, 6, 0},   {op_env_start, 6, 0},
    {op_pct_call, 9, 0},        {op_pct_send, 6, 0},         {op_pct_reply, 3, 0},
    {op_pct_accept, 3, 0},      {op_revoke, 6, 0},           {op_disk, 12, 0},
    {op_net, 9, 0},
    {op_env_wait, 3, 1},        {seq_server, 3, 1},          {seq_worker, 1, 1},
    {seq_disk_then_free, 3, 0}, {seq_grant, 3, 0},
};
#define NOPS ((int)(sizeof(ops) / sizeof(ops[0])))

// Make calls until F.limit, choosing operations by weight; kcheck every
// KCHECK_EVERY calls; the main program prints its progress.
static void fuzz_loop(void)
{
  int total = 0;
  for (int i = 0; i < NOPS; i++)
    total += ops[i].weight;
  unsigned long next_kcheck = KCHECK_EVERY, next_progress = PROGRESS;
  while (F.calls + (F.is_main ? SHARED->child_calls : 0) < F.limit) {
    int w = below(total), i = 0;
    while (w >= ops[i].weight)
      w -= ops[i++].weight;
    if (ops[i].main_only && !F.is_main)
      continue;
    if (!F.is_main && kid_server && one_in(50))
      call7(one_in(2) ? SYS_pct_call : SYS_pct_send, below(12), 0, 0, 0, 0, 0, kid_server);
    ops[i].fn();
    if (F.calls >= next_kcheck) {
      next_kcheck += F.is_main ? KCHECK_EVERY : 4 * KCHECK_EVERY;
      do_kcheck();
    }
    if (F.is_main && F.calls >= next_progress) {
      next_progress += PROGRESS;
      printf("fuzz: seed %lu: call %lu\n", main_seed, F.calls);
      prune_kids();
    }
  }
}

// Destroy every environment but ourselves. Returns how many could not be
// (they escaped our control).
static int clean_up(void)
{
  int escaped = 0;
  for (int pass = 0; pass < 3; pass++) {
    escaped = 0;
    for (unsigned long i = 0; i < SYSINFO->nenv; i++) {
      const struct env_info *e = ENVINFO(i);
      unsigned int id = e->id;
      if (id == 0 || id == F.me || e->status == ENV_FREE)
        continue;
      long r = call(SYS_env_destroy, id, 0, 0, 0, 0, 0);
      if (r < 0 && ENVINFO(i)->id == id) {
        if (pass == 2)
          printf("fuzz: FAIL: env %x (%s, parent %x) escaped control: destroy gave %ld\n", id,
                 e->name, e->parent_id, r);
        escaped++;
      }
    }
  }
  return escaped;
}

// Parse arg into *val if it is "key=N" (N decimal). Returns 1 if it was.
static int arg_num(const char *arg, const char *key, unsigned long *val)
{
  int n = strlen(key);
  if (strncmp(arg, key, n) != 0 || arg[n] != '=' || arg[n + 1] == 0)
    return 0;
  for (const char *s = arg + n + 1; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  *val = atoi(arg + n + 1);
  return 1;
}

// Fuzz with the seed, count and trace of argv; clean up; print the
// summary. Returns 0 only if nothing went wrong.
int main(int argc, char **argv)
{
  unsigned long seed = 1, ncalls = 100000, trace = 0;
  for (int i = 1; i < argc; i++)
    if (!arg_num(argv[i], "seed", &seed) && !arg_num(argv[i], "calls", &ncalls) &&
        !arg_num(argv[i], "trace", &trace) && !arg_num(argv[i], "avoid", &avoid)) {
      fprintf(2, "fuzz: unknown argument %s\nusage: fuzz [seed=N] [calls=N] [trace=N] [avoid=N]\n",
              argv[i]);
      return 2;
    }
  F.me = sys_getenvid();
  F.is_main = 1;
  F.rng = seed * 0x9E3779B97F4A7C15UL + 1;
  F.limit = ncalls;
  F.trace = trace;
  main_seed = seed;
  aspace_init(&self, F.me);

  long sh = sys_page_alloc(0, 0, PG_USER);
  if (sh < 0 || aspace_map(&self, SHARED_VA, sh, PTE_R | PTE_W) < 0) {
    printf("fuzz: cannot map the shared page: %ld\n", sh);
    return 1;
  }
  shared_ppn = sh;
  printf("fuzz: seed %lu: %lu calls\n", seed, ncalls);
  fuzz_loop();
  unsigned long mine = F.calls;
  int escaped = clean_up();
  call(SYS_env_wait, 0, 0, 0, 0, 0, 0);
  do_kcheck();
  long children = SHARED->children;
  unsigned long total = F.calls + SHARED->child_calls;
  int ok = F.kfails == 0 && escaped == 0 && F.leaks == 0;
  printf("fuzz: seed %lu: %lu calls (%lu here, %lu by %ld children), %lu kchecks: %s", seed, total,
         mine, total - F.calls, children, F.kchecks, ok ? "OK\n" : "FAILED:");
  if (!ok)
    printf(" %lu kcheck failures, %d escaped, %lu kernel addresses in registers\n", F.kfails,
           escaped, F.leaks);
  if (SYSINFO->harts_up > 1) {
    int seen = 0;
    for (unsigned long h = 0; h < SYSINFO->harts_up; h++)
      seen += (SHARED->harts >> h) & 1;
    printf("fuzz: its environments ran on %d of %lu harts\n", seen, SYSINFO->harts_up);
  }
  return !ok;
}
