// t_sound: the kernel's protection holds across *sequences* of calls. Each
// group replays a way out of the protection model that a hostile program
// once found (destroy while someone waits, while the disk writes a page,
// orphans nobody controls, a pool taken whole, kernel addresses left in
// registers) and checks the kernel now refuses it; kcheck runs after each.

#include "user/tsupport.h"

#define OP_HANG  1  // the server never answers
#define OP_ADD   2
#define BIG_VA   0x1000000000UL  // a level-1 table's worth of this program's own space
#define NTABLES  130             // level-0 tables there: 66,560 slots
#define NMAPS    66000           // more mappings of one page than 16 bits count
#define ORPHAN_B 100             // disk blocks bound on to the grandchild in the orphan group
#define ORPHAN_C 200             // ... and a second range

static long server_id;  // set before the caller children are made (they get a copy)

// ---------------------------------------------------------------- helpers

// The PCT entry of the test servers: a fresh stack, then server_call.
PCT_SERVER_ENTRY();

// Answer OP_ADD; never answer OP_HANG (the caller waits until one of the
// two is destroyed).
void server_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind)
{
  if (kind == PCT_SYNC && op == OP_ADD)
    sys_pct_reply(x + y, 0, 0, 0, 0, 0, caller);
  for (;;)
    sys_yield(0);
}

// A server: register the entry, then give the processor away.
static void server(void)
{
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)server_entry);
  for (;;)
    sys_yield(0);
}

// A caller that blocks forever in a call to server_id.
static void hanging_caller(void)
{
  sys_pct_call(OP_HANG, 0, 0, 0, 0, 0, server_id);
}

// Yield to everyone a few times, so that anything runnable runs.
static void let_others_run(void)
{
  for (int i = 0; i < 2 * NSLICES; i++)
    sys_yield(0);
}

// The status of environment id once it has stopped running (a second at
// most): with several harts, a child yielded to may have been running on
// another hart, and be on its way to the wait a check expects of it.
static long settled_status(long id)
{
  unsigned long end = sys_uptime() + SYSINFO->timebase_hz;
  while (ENVINFO(id)->status == ENV_RUNNABLE && (unsigned long)sys_uptime() < end)
    sys_yield(0);
  return ENVINFO(id)->status;
}

// ---------------------------------------------------------------- 1. ghosts

// A caller destroyed while it waits for a server must stay dead when the
// server dies later; a child blocked in a call cannot be "started" again.
static void ghosts(void)
{
  server_id = spawn_child("server", server);
  sys_env_start(server_id);
  sys_yield(server_id);
  long c = spawn_child("caller", hanging_caller);
  sys_env_start(c);
  sys_yield(c);
  check("a caller blocked in pct_call waits", settled_status(c), ENV_NOT_RUNNABLE);
  check("... and cannot be started again", sys_env_start(c), -E_RUNNING);
  check("... nor have its registers replaced", sys_env_set_regs(c, &(struct user_regs){0}),
        -E_RUNNING);
  check("destroy the waiting caller", sys_env_destroy(c), 0);
  check("then its server", sys_env_destroy(server_id), 0);
  let_others_run();
  check("the caller's free slot did not come back to life", ENVINFO(c)->status, ENV_FREE);
  check("... and has no id", ENVINFO(c)->id, 0);

  // The other order: the server dies while a caller waits; the caller
  // gets -E_BADENV and runs on (a second one blocked too is destroyed).
  server_id = spawn_child("server", server);
  sys_env_start(server_id);
  sys_yield(server_id);
  long c1 = spawn_child("caller", hanging_caller), c2 = spawn_child("caller", hanging_caller);
  sys_env_start(c1);
  sys_env_start(c2);
  sys_yield(c1);
  sys_yield(c2);
  sys_env_destroy(c2);
  sys_env_destroy(server_id);
  run_child(c1);
  check("a caller whose server died ran to its end", gone_now(c1), 1);
  check("the destroyed caller stayed free", ENVINFO(c2)->status, ENV_FREE);
  kcheck("ghosts");
}

// ---------------------------------------------------------------- 2. disk DMA

#define DMA_TRIES 200
#define PATTERN   0xA5A5A5A5A5A5A5A5UL

// Fill page ppn with PATTERN (through SCRATCH).
static void fill_pattern(long ppn)
{
  aspace_map(&self, SCRATCH, ppn, PTE_R | PTE_W);
  for (int i = 0; i < NPTENTRIES; i++)
    ((volatile unsigned long *)SCRATCH)[i] = PATTERN;
  aspace_unmap(&self, SCRATCH);
}

// A page the disk is reading into belongs to a child the parent destroys
// mid-transfer: the page must not be handed out again until the device is
// done, or the device writes into whatever it became (here: a page table).
// The disk's last block holds a pattern first; a read of it is caught in
// flight (disk_status says pending) before the child is destroyed. (The
// grader slows the disk down, so that the read is still in flight when
// the destroy ends, as it is on real hardware.)
static void disk_dma(void)
{
  long last = SYSINFO->disk_blocks - 1, src = sys_page_alloc(0, 0, PG_USER);
  fill_pattern(src);
  check("write a pattern to the disk's last block", sys_disk_wait(sys_disk_io(last, src, 1)), 0);
  sys_page_free(src);
  long k = 0, pg = 0, req = -1;
  int tries = 0;
  while (req < 0 && tries++ < DMA_TRIES) {
    k = sys_env_create("victim");
    pg = sys_page_alloc(k, 0, PG_USER);
    req = sys_disk_io(last, pg, 0);
    if (sys_disk_status(req) != 1) {  // done already (and collected): try again
      req = -1;
      sys_env_destroy(k);
    }
  }
  printf("caught a read in flight after %d tries\n", tries);
  check("a read into a child's page is in flight", req >= 0, 1);
  check("destroy the child while the read is in flight", sys_env_destroy(k), 0);
  long status = sys_disk_status(req);
  check("the destroy waited for the device: the read is done", status, 0);
  long t = sys_page_alloc(0, pg, PG_PT1);
  check("its page is free again and taken as a level-1 table", t, pg);
  if (status == 1)
    sys_disk_wait(req);  // (with the bug: the device writes into the new table now)
  check("map the table read-only to look at it", aspace_map(&self, SCRATCH, t, PTE_R), 0);
  long dirty = 0;
  for (int i = 0; i < NPTENTRIES; i++)
    dirty |= ((volatile unsigned long *)SCRATCH)[i];
  check("the device wrote nothing into the new table", dirty, 0);
  aspace_unmap(&self, SCRATCH);
  check("free the table", sys_page_free(t), 0);

  // The abort protocol passes by a page the disk is reading into: a
  // request for it that is not answered leaves it with its owner.
  k = sys_env_create("victim");
  pg = sys_page_alloc(k, 0, PG_USER);
  req = sys_disk_io(last, pg, 0);
  check("ask for the page a read is going into, within a tick", sys_revoke(k, REVOKE_PAGE, pg, 1),
        0);
  unsigned long end = sys_uptime() + SYSINFO->timebase_hz / 1000 * 3;  // three slices
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
  long pending = sys_disk_status(req) == 1;
  printf("the read was %s when the deadline had passed\n", pending ? "still in flight" : "done");
  check("the deadline passed, but the pinned page was not taken",
        !pending || PAGEINFO(pg)->owner == (unsigned int)k, 1);
  if (pending)
    sys_disk_wait(req);
  sys_env_destroy(k);
  kcheck("disk DMA");
}

// ---------------------------------------------------------------- 3, 4, 6. tables

// Page number 0 is not RAM: a write naming it is refused, never followed.
// Then one page is mapped NMAPS times (more than a 16-bit count holds) by a
// grantee, its owner can still map it, and kcheck stays linear.
static void tables(void)
{
  check("pte_write into page 0 is refused", sys_pte_write(0, 0, 0), -E_NOTPT);
  struct pte_write zero[3] = {{0, 0, 0}};
  check("an all-zero batch entry is refused", sys_pte_write_batch(zero, 3), -E_NOTPT);
  check("an exception stack at 0 is refused (lo - 4096 would wrap)",
        sys_env_set_xstack(0, 0, 4 * PGSIZE), -E_INVAL);

  long me = sys_getenvid(), owner = sys_env_create("owner");
  long pg = sys_page_alloc(owner, 0, PG_USER);
  check("a child grants me its page read-only", sys_page_grant(pg, me, GRANT_R), 0);
  long root = ENVINFO(me)->root_ppn, pt1 = sys_page_alloc(0, 0, PG_PT1), pt0[NTABLES];
  check("link a level-1 table", sys_pte_write(root, PX(2, BIG_VA), PA2PTE(pt1 << 12) | PTE_V), 0);
  for (int i = 0; i < NTABLES; i++) {
    pt0[i] = sys_page_alloc(0, 0, PG_PT0);
    sys_pte_write(pt1, i, PA2PTE(pt0[i] << 12) | PTE_V);
  }
  static struct pte_write w[512];
  long err = 0;
  for (int n = 0; n < NMAPS && err == 0; n += 512) {
    int k = NMAPS - n < 512 ? NMAPS - n : 512;
    for (int i = 0; i < k; i++)
      w[i] = (struct pte_write){pt0[n / 512], i, PA2PTE(pg << 12) | PTE_R | PTE_U | PTE_V};
    long done = sys_pte_write_batch(w, k);
    err = done < 0 ? done : 0;
  }
  check("map the page 66,000 times", err == 0 && PAGEINFO(pg)->mapcount == NMAPS, 1);
  struct aspace as;
  aspace_init(&as, owner);
  check("its owner can still map it", aspace_map(&as, 0x10000, pg, PTE_R | PTE_W), 0);
  unsigned long before = rdinstret();
  check("kcheck with 66,001 mappings of one page", sys_kcheck(), 0);
  unsigned long cost = rdinstret() - before;
  printf("kcheck over %u mappings: %lu instructions\n", PAGEINFO(pg)->mapcount, cost);
  check("... takes linear time (under 60M instructions)", cost < 60000000UL, 1);
  for (int n = 0; n < NMAPS; n += 512) {
    int k = NMAPS - n < 512 ? NMAPS - n : 512;
    for (int i = 0; i < k; i++)
      w[i] = (struct pte_write){pt0[n / 512], i, 0};
    sys_pte_write_batch(w, k);
  }
  for (int i = 0; i < NTABLES; i++) {
    sys_pte_write(pt1, i, 0);
    sys_page_free(pt0[i]);
  }
  sys_pte_write(root, PX(2, BIG_VA), 0);
  check("tear the tables down", sys_page_free(pt1), 0);
  sys_env_destroy(owner);
  check("a page its owner lent me (not its descendant) goes when the owner dies",
        PAGEINFO(pg)->type, PG_FREE);
  kcheck("many mappings");
}

// ---------------------------------------------------------------- 5. orphans

// The page a child shares with this program at SCRATCH (both map it there):
// word 0 the child's answer, word 1 the parent's go-ahead.
#define SHARED ((volatile long *)SCRATCH)

// Make child `name` running fn with a page shared at SCRATCH, mapped here
// too. Returns its id; *page is the shared page (free it when done).
static long spawn_sharing(const char *name, void (*fn)(void), long *page)
{
  long id = spawn_child(name, fn);
  struct aspace as;
  aspace_init(&as, id);
  *page = sys_page_alloc(0, 0, PG_USER);
  sys_page_grant(*page, id, GRANT_R | GRANT_W);
  aspace_map(&as, SCRATCH, *page, PTE_R | PTE_W);
  aspace_map(&self, SCRATCH, *page, PTE_R | PTE_W);
  return id;
}

// Stop sharing the page of spawn_sharing.
static void unshare(long page)
{
  aspace_unmap(&self, SCRATCH);
  sys_page_free(page);
}

// The middle child: creates a grandchild it never starts, binds it both
// ranges it was given, tells the parent the grandchild's id, and ends when
// the parent says so.
static void middle(void)
{
  long g = sys_env_create("grandchild");
  sys_disk_bind(g, ORPHAN_B, 10);
  sys_disk_bind(g, ORPHAN_C, 10);
  SHARED[0] = g;
  while (SHARED[1] == 0)
    sys_yield(0);
}

// When an environment dies its children pass to its parent, with the
// bindings it made for them; a range taken back is taken back from
// everyone it was bound on to.
static void orphans(void)
{
  long page, mid = spawn_sharing("middle", middle, &page);
  check("bind the middle child two ranges",
        sys_disk_bind(mid, ORPHAN_B, 10) == 0 && sys_disk_bind(mid, ORPHAN_C, 10) == 0, 1);
  sys_env_start(mid);
  while (SHARED[0] == 0)
    sys_yield(mid);
  long g = SHARED[0];
  check("the middle child made a grandchild", g > 0 && !gone_now(g), 1);
  check("I do not control my grandchild", sys_env_destroy(g), -E_PERM);
  check("... nor may I bind it a range", sys_disk_bind(g, 0, 1), -E_PERM);
  check("take the first range back from the middle child", sys_disk_unbind(mid, ORPHAN_B, 10), 0);
  SHARED[1] = 1;
  run_child(mid);
  unshare(page);
  check("the grandchild passed to me when its parent died", ENVINFO(g)->parent_id, sys_getenvid());
  check("... the range taken back went from it too", sys_disk_unbind(g, ORPHAN_B, 10),
        -E_NOBINDING);
  check("... the other it kept, and I can take it back", sys_disk_unbind(g, ORPHAN_C, 10), 0);
  check("... and I can destroy it", sys_env_destroy(g), 0);
  kcheck("orphans");
}

// ---------------------------------------------------------------- 6. pools

// A child that grants a page of its own to its parent and says how that went.
static void granter(void)
{
  long p = sys_page_alloc(0, 0, PG_USER);
  SHARED[0] = sys_page_grant(p, ENVINFO(sys_getenvid())->parent_id, GRANT_R);
}

// No environment can take a whole pool: the grant records, the disk
// request slots, the environment table. Past its share it gets -E_QUOTA,
// and others can still use the pool.
static void pools(void)
{
  long kids[4];
  static long pg[8192];
  for (int i = 0; i < 4; i++)
    kids[i] = sys_env_create("grantee");
  long err = 0, made = 0;
  int npg = 0;
  while (err == 0 && npg < 8192) {
    pg[npg] = sys_page_alloc(0, 0, PG_USER);
    for (int i = 0; i < 4 && err == 0; i++)
      if ((err = sys_page_grant(pg[npg], kids[i], GRANT_R)) == 0)
        made++;
    npg++;
  }
  printf("made %ld grants before my share ran out\n", made);
  check("grants past one environment's share give E_QUOTA", err, -E_QUOTA);
  check("... a quarter of the pool (two records per page of RAM)", made, SYSINFO->npages / 2);
  long page, other = spawn_sharing("granter", granter, &page);
  run_child(other);
  check("another environment can still grant", SHARED[0], 0);
  unshare(page);
  for (int i = 0; i < 4; i++)
    sys_env_destroy(kids[i]);
  for (int i = 0; i < npg; i++)
    sys_page_free(pg[i]);
  kcheck("grant pool");

  long buf = sys_page_alloc(0, 0, PG_USER), req[DISK_REQUESTS_PER_ENV + 1], r = 0;
  int n = 0;
  while (n <= DISK_REQUESTS_PER_ENV && (r = sys_disk_io(2, buf, 0)) >= 0)
    req[n++] = r;
  check("uncollected disk requests past one's share give E_QUOTA", r, -E_QUOTA);
  check("... after DISK_REQUESTS_PER_ENV of them", n, DISK_REQUESTS_PER_ENV);
  for (int i = 0; i < n; i++)
    sys_disk_wait(req[i]);
  sys_page_free(buf);
  kcheck("disk pool");
}

// ---------------------------------------------------------------- 7. sleeping servers

// A server that sleeps in pct_accept(PCT_SLEEP) keeps its registers: a
// call finds its callee-saved registers as it left them and its pc after
// the ecall in u-area pct_pc. The entry replies 1 when both hold, else 0.
void sleeper_entry(void);
void sleeper(void);
asm(".globl sleeper\n"
    "sleeper:\n"
    "  li a0, 0\n"
    "  li a1, " XSTR(ENTRY_PCT) "\n"
                                "  la a2, sleeper_entry\n"
                                "  li a7, 9\n"  // SYS_env_set_entry
                                "  ecall\n"
                                "  li s2, 0x1234\n"
                                "  li s11, 0x5678\n"
                                "  li a0, 0x200000000\n"  // PCT_SLEEP
                                "  li a7, 23\n"           // SYS_pct_accept
                                "sleep_ecall:\n"
                                "  ecall\n"
                                "1:li a0, 0\n"
                                "  li a7, 16\n"  // SYS_yield
                                "  ecall\n"
                                "  j 1b\n"
                                "sleeper_entry:\n"
                                "  li a0, 0\n"
                                "  li t0, 0x1234\n"
                                "  bne s2, t0, 2f\n"
                                "  li t0, 0x5678\n"
                                "  bne s11, t0, 2f\n"
                                "  li t0, 0x3FFFFFF000\n"  // UAREA
                                "  ld t1, " XSTR(UAREA_PCT_PC) "(t0)\n"
                                                               "  la t2, sleep_ecall + 4\n"
                                                               "  bne t1, t2, 2f\n"
                                                               "  li a0, 1\n"
                                                               "2:li a7, 22\n"  // SYS_pct_reply, to
                                                                                // the caller in a6
                                                               "  ecall\n"
                                                               "  j 1b\n");
_Static_assert(SYS_env_set_entry == 9 && SYS_pct_accept == 23 && SYS_yield == 16 &&
                   SYS_pct_reply == 22 && PCT_SLEEP == 0x200000000UL && UAREA == 0x3FFFFFF000UL,
               "the numbers in sleeper");

static void sleeping_server(void)
{
  long s = spawn_child("sleeper", sleeper);
  sys_env_start(s);
  sys_yield(s);
  check("a server sleeps in pct_accept(PCT_SLEEP)", settled_status(s), ENV_NOT_RUNNABLE);
  check("a call finds its registers and pc as it left them", sys_pct_call(0, 0, 0, 0, 0, 0, s), 1);
  sys_env_destroy(s);
  kcheck("sleeping server");
}

// ---------------------------------------------------------------- 8. registers

// Is v an address in the kernel's half (the direct map or its code)?
static int kernel_address(unsigned long v)
{
  return v >= 0xFFFFFFC000000000UL && v < 0xFFFFFFFF00000000UL;
}

// Make system call num with arguments a0..a2 and a6 (the PCT calls' id)
// and every other register it may change set to a marker; return how many
// of them hold a kernel address afterwards.
static int leaks_after(long num, long a0, long a1, long a2, long a6)
{
  unsigned long r[14];
  asm volatile("mv a0, %1\n mv a1, %2\n mv a2, %3\n mv a7, %4\n mv a6, %5\n"
               "li t0, 7\n li t1, 7\n li t2, 7\n li t3, 7\n li t4, 7\n li t5, 7\n li t6, 7\n"
               "li a3, 7\n li a4, 7\n li a5, 7\n"
               "ecall\n"
               "sd t0, 0(%0)\n sd t1, 8(%0)\n sd t2, 16(%0)\n sd t3, 24(%0)\n sd t4, 32(%0)\n"
               "sd t5, 40(%0)\n sd t6, 48(%0)\n sd a1, 56(%0)\n sd a2, 64(%0)\n sd a3, 72(%0)\n"
               "sd a4, 80(%0)\n sd a5, 88(%0)\n sd a6, 96(%0)\n sd a7, 104(%0)\n"
               :
               : "r"(r), "r"(a0), "r"(a1), "r"(a2), "r"(num), "r"(a6)
               : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
                 "a7", "memory");
  int n = 0;
  for (int i = 0; i < 14; i++)
    n += kernel_address(r[i]);
  return n;
}

// No system call leaves a kernel address in a register, on the fast paths
// (a plain call, a PCT call and its reply) or the full one.
static void registers(void)
{
  static const long calls[][4] = {
      {SYS_getenvid, 0, 0, 0},
      {SYS_cputs, 0, 0, 0},
      {SYS_cgetc, 0, 0, 0},
      {SYS_uptime, 0, 0, 0},
      {SYS_page_free, 1, 0, 0},
      {SYS_page_grant, 1, 1, 1},
      {SYS_pte_write, 1, 1, 1},
      {SYS_pte_write_batch, 0, 0, 0},
      {SYS_slice_free, 999, 0, 0},
      {SYS_env_set_entry, 0, 99, 0},
      {SYS_env_set_xstack, 0, 0, 0},
      {SYS_page_alloc, 0, 0, 99},
      {SYS_disk_status, 99, 0, 0},
      {SYS_revoke, 0, 99, 0},
      {SYS_env_wait, 0x7fffff00, 0, 0},
      {SYS_yield, 0x7fffff00, 0, 0},
      {SYS_pct_reply, 0, 0, 0},
      {SYS_pct_accept, 0, 0, 0},
      {SYS_disk_bind, 0, 0, 0},
      {SYS_env_start, 0x7fffff00, 0, 0},
      {99, 0, 0, 0},
  };
  int leaks = 0;
  for (unsigned long i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
    int n = leaks_after(calls[i][0], calls[i][1], calls[i][2], calls[i][3], 7);
    if (n != 0)
      printf("system call %ld left %d kernel addresses in registers\n", calls[i][0], n);
    leaks += n;
  }
  // PCT calls the fast paths give up on half-way, to the full path: to a
  // child not started, to one not waiting for a reply.
  long idle = sys_env_create("idle");
  int bail = leaks_after(SYS_pct_call, 0, 0, 0, idle) + leaks_after(SYS_pct_send, 0, 0, 0, idle) +
             leaks_after(SYS_pct_reply, 0, 0, 0, idle);
  sys_env_destroy(idle);
  server_id = spawn_child("server", server);
  sys_env_start(server_id);
  sys_yield(server_id);
  int pct = 0;
  for (int i = 0; i < 10; i++) {
    register long a6 asm("a6") = server_id;
    unsigned long r[14];
    asm volatile("li a0, 2\n li a1, 3\n li a7, 20\n ecall\n"  // SYS_pct_call: OP_ADD 2 3
                 "sd t0, 0(%1)\n sd t1, 8(%1)\n sd t2, 16(%1)\n sd t3, 24(%1)\n sd t4, 32(%1)\n"
                 "sd t5, 40(%1)\n sd t6, 48(%1)\n sd a1, 56(%1)\n sd a2, 64(%1)\n"
                 "sd a3, 72(%1)\n sd a4, 80(%1)\n sd a5, 88(%1)\n sd a6, 96(%1)\n sd a7, 104(%1)\n"
                 : "+r"(a6)
                 : "r"(r)
                 : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "a0", "a1", "a2", "a3", "a4", "a5",
                   "a7", "memory");
    for (int k = 0; k < 14; k++)
      pct += kernel_address(r[k]);
  }
  _Static_assert(SYS_pct_call == 20 && OP_ADD == 2, "the numbers in registers()");
  sys_env_destroy(server_id);
  check("no system call leaves a kernel address in a register", leaks, 0);
  check("... nor a PCT call and its reply", pct, 0);
  check("... nor a PCT call the fast path hands to the full one", bail, 0);
  kcheck("registers");
}

static const struct {
  const char *name;
  void (*run)(void);
} groups[] = {
    {"ghosts", ghosts},       {"disk_dma", disk_dma}, {"tables", tables},
    {"orphans", orphans},     {"pools", pools},       {"sleeper", sleeping_server},
    {"registers", registers},
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

// Is name a group's?
static int is_group(const char *name)
{
  for (unsigned long i = 0; i < NGROUPS; i++)
    if (strcmp(groups[i].name, name) == 0)
      return 1;
  return 0;
}

// Run every group, or those named in the arguments (ARGS="init=t_sound pools");
// an unknown name is an error.
int main(int argc, char **argv)
{
  for (int a = 1; a < argc; a++)
    if (!is_group(argv[a])) {
      fprintf(2, "t_sound: unknown group %s\nusage: t_sound [GROUP...]; the groups:", argv[a]);
      for (unsigned long i = 0; i < NGROUPS; i++)
        fprintf(2, " %s", groups[i].name);
      fprintf(2, "\n");
      return 2;
    }
  aspace_init(&self, sys_getenvid());
  for (unsigned long i = 0; i < NGROUPS; i++) {
    int chosen = argc == 1;
    for (int a = 1; a < argc; a++)
      chosen |= strcmp(argv[a], groups[i].name) == 0;
    if (chosen)
      groups[i].run();
  }
  check("tear down scratch tables", aspace_teardown(&self), 0);
  // A child never started, left behind: when this program ends nobody can
  // ever start it, so it must not keep the machine on (the grader waits
  // for the kernel to power off).
  check("leave a never-started child behind", sys_env_create("limbo") > 0, 1);
  finish("t_sound");
}
