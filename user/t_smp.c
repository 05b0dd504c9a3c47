// The exokernel on several harts (boot with -smp 2 or more): a mapping
// broken on one hart is gone from every other hart's TLB when the call
// returns (shootdowns); an environment running on another hart can be
// destroyed, and leaves nothing behind; slices are named by hart; a PCT
// call reaches a callee running on another hart, and either side of a call
// may be destroyed while the other runs elsewhere. `t_smp shootdowns`: the
// shootdowns only (lab smp).

#include "user/tsupport.h"

#define ROUNDS  300
#define SHARED  0x2800000000UL  // in the child: the control page
#define WINDOW  0x2800001000UL  // in the child: page A or page B, by round
#define PARENT  (SCRATCH + 0x10000)  // in the parent: control, A, B

// The control page, shared by parent and reader.
struct control {
  volatile unsigned long round;  // the parent's: WINDOW maps the round's page
  volatile unsigned long seen;   // the reader's: the last round it checked
  volatile unsigned long stale;  // the reader's: reads that found the old page
  volatile unsigned long spins;  // the spinner's: it counts while it runs
  volatile unsigned long hello;  // the spinner's: its id, written once as it starts
  volatile unsigned long who;    // the spinner's: its id, written as it counts
  volatile unsigned long home, away;  // the homebody's: times it saw itself on hart 1, elsewhere
  volatile unsigned long in_call;     // the server's: calls it has entered
  volatile unsigned long release;     // the parent's: a held call may be answered now
  volatile long reply;                // the server's: what its pct_reply returned
  volatile long result;               // the caller's: what its pct_call returned
  volatile unsigned long answered;    // the caller's: set once result is written
};

#define OP_ADD  1  // answer x + y at once
#define OP_HANG 2  // never answer
#define OP_HOLD 3  // answer 0 once the parent sets release

#define TAG_A 0xAAAAAAAAUL
#define TAG_B 0xBBBBBBBBUL

// The tag of the page WINDOW maps in round r.
static unsigned long tag_of(unsigned long r)
{
  return r % 2 ? TAG_B : TAG_A;
}

static int reader_traps;  // set before spawning: the reader makes a system call between reads

// The reader (a child, on another hart): keep WINDOW's translation warm in
// this hart's TLB; when a new round is announced, read WINDOW once more and
// count it stale unless it is the round's page; then say so.
static void reader(void)
{
  struct control *c = (struct control *)SHARED;
  volatile unsigned long *w = (volatile unsigned long *)WINDOW;
  unsigned long last = 0;
  for (;;) {
    unsigned long r = c->round;
    if (r == last) {
      (void)*w;
      if (reader_traps)
        sys_getenvid();
      continue;
    }
    asm volatile("fence r, r" ::: "memory");
    if (*w != tag_of(r))
      c->stale++;
    c->seen = last = r;
    if (r == ROUNDS)
      return;
  }
}

// The spinner (a child, on another hart): say who it is, and count for ever.
static void spinner(void)
{
  struct control *c = (struct control *)SHARED;
  unsigned long me = sys_getenvid();
  c->hello = me;
  for (;;) {
    c->who = me;
    c->spins++;
  }
}

// A bystander (a child, in an address space of its own): spin in user
// mode for ever.
static void bystander(void)
{
  for (;;)
    asm volatile("");
}

// The homebody (a child owning every slice of hart 1): count, by the
// exported table of who runs where, how often it finds itself on hart 1
// and how often elsewhere.
static void homebody(void)
{
  struct control *c = (struct control *)SHARED;
  unsigned int me = sys_getenvid();
  for (;;) {
    for (unsigned long h = 0; h < SYSINFO->harts_up; h++)
      if (SYSINFO->running[h] == me) {
        if (h == 1)
          c->home++;
        else
          c->away++;
      }
  }
}

// The syscaller (a child owning every slice of hart 1): make system
// calls for ever, counting them.
static void syscaller(void)
{
  struct control *c = (struct control *)SHARED;
  for (;;) {
    sys_getenvid();
    c->spins++;
  }
}

// The server's PCT entry (registered by server): a fresh stack, then
// server_call. Its own code spins in user mode, so it runs without a break
// on its hart, and a call reaches it there.
PCT_SERVER_ENTRY();

// Answer a call (see OP_*), then spin for ever, counting.
void server_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind)
{
  struct control *c = (struct control *)SHARED;
  c->in_call++;
  if (op == OP_HOLD)
    while (!c->release)
      ;
  if (op != OP_HANG)
    c->reply = sys_pct_reply(op == OP_ADD ? x + y : 0, 0, 0, 0, 0, 0, caller);
  for (;;)
    c->spins++;
}

// A server (a child): register its entry, then spin, counting.
static void server(void)
{
  struct control *c = (struct control *)SHARED;
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)server_entry);
  for (;;)
    c->spins++;
}

static long callee_id, call_op;  // the caller's callee and operation (set before it is made)

// A caller (a child): call callee_id with call_op, and leave the result.
static void caller(void)
{
  struct control *c = (struct control *)SHARED;
  c->result = sys_pct_call(call_op, 0, 0, 0, 0, 0, callee_id);
  c->answered = 1;
}

// Does environment id run on a hart now (by the exported table)?
static int running(long id)
{
  for (unsigned long h = 0; h < SYSINFO->harts_up; h++)
    if (SYSINFO->running[h] == (unsigned int)id)
      return 1;
  return 0;
}

// Allocate pages control, A and B (ours), map them here at PARENT + 0, 1, 2
// pages, grant them to child id and map them in its tables at SHARED and
// WINDOW (A). Returns 0 or an error; the pages' numbers in ppn[3].
static long share_pages(long id, struct aspace *child, long ppn[3])
{
  long err;
  for (int i = 0; i < 3; i++) {
    if ((ppn[i] = sys_page_alloc(sys_getenvid(), 0, PG_USER)) < 0)
      return ppn[i];
    if ((err = aspace_map(&self, PARENT + i * PGSIZE, ppn[i], PTE_R | PTE_W)) < 0 ||
        (err = sys_page_grant(ppn[i], id, GRANT_R | GRANT_W)) < 0)
      return err;
  }
  *(unsigned long *)(PARENT + PGSIZE) = TAG_A;
  *(unsigned long *)(PARENT + 2 * PGSIZE) = TAG_B;
  if ((err = aspace_map(child, SHARED, ppn[0], PTE_R | PTE_W)) < 0)
    return err;
  return aspace_map(child, WINDOW, ppn[1], PTE_R);
}

// Unmap and free the pages share_pages made (the child is gone).
static void unshare_pages(long ppn[3])
{
  for (int i = 0; i < 3; i++) {
    aspace_unmap(&self, PARENT + i * PGSIZE);
    sys_page_free(ppn[i]);
  }
}

// Make a child running fn with the three pages shared (share_pages), not
// yet started; its table-builder in *child. Returns its id (the program
// stops if that failed).
static long child_sharing(const char *name, void (*fn)(void), struct aspace *child, long ppn[3])
{
  long id = spawn_child(name, fn);
  aspace_init(child, id);
  check("child made, pages shared", id > 0 && share_pages(id, child, ppn) == 0, 1);
  stop_if_failed("t_smp");
  return id;
}

// Shootdowns: round by round move the reader's WINDOW between pages A and B
// (a PTE write in its table, from this hart), and only then announce the
// round. A reader whose hart kept the old translation reads the old page.
// A reader in user mode is interrupted and waited for until it has entered
// the kernel, whose trap_return fences its hart; one that `traps`,
// making a system call between reads, is mostly in the kernel when its
// mapping changes, and its hart fences itself before it returns
// (trap_return). The harts it ran on before fence their translations
// lazily too, before they run it again; QEMU empties a hart's TLB at every
// satp write, so that case cannot be seen failing here. Bystanders spin in
// user mode on the harts this program and the reader leave free: a round
// must not interrupt them (they do not run the reader).
static void shootdowns(int traps)
{
  struct control *c = (struct control *)PARENT;
  struct aspace child;
  long ppn[3], others[MAXHARTS];
  int nothers = 0;
  reader_traps = traps;
  long id = child_sharing("reader", reader, &child, ppn);
  for (unsigned long h = 2; h < SYSINFO->harts_up; h++)
    if ((others[nothers] = spawn_child("bystander", bystander)) > 0)
      sys_env_start(others[nothers++]);
  unsigned long fences = SYSINFO->shootdowns, interrupted = SYSINFO->shootdown_harts;
  sys_env_start(id);
  int rounds = 0;
  for (unsigned long r = 1; r <= ROUNDS; r++) {
    if (aspace_map(&child, WINDOW, ppn[r % 2 ? 2 : 1], PTE_R) < 0)
      break;
    c->round = r;
    if (!await(&c->seen, r))
      break;
    rounds++;
  }
  check(traps ? "a reader making system calls on another hart checked every round"
              : "a reader running on another hart checked every round",
        rounds, ROUNDS);
  check("... and never read a page after its mapping was replaced", c->stale, 0);
  if (!traps)
    check("remote fences were made", SYSINFO->shootdowns > fences, 1);
  // Each round's write interrupts the reader's hart at most: no other hart
  // runs it (and one running it in the kernel is not waited for).
  check("... interrupting at most one hart a round",
        SYSINFO->shootdown_harts - interrupted <= (unsigned long)rounds, 1);
  check("the reader ended", gone(id), 1);
  int destroyed = 0;
  for (int i = 0; i < nothers; i++)
    destroyed += sys_env_destroy(others[i]) == 0;
  check("the bystanders made and destroyed",
        nothers == (int)SYSINFO->harts_up - 2 && destroyed == nothers, 1);
  unshare_pages(ppn);
  kcheck("shootdowns");
}

// Breaking the mappings of a child that runs nowhere (made, not started)
// interrupts no hart: each hart fences the child's ASID before it first
// runs it (trap_return).
static void lazy_only(void)
{
  struct aspace child;
  long ppn[3];
  long id = child_sharing("idler", spinner, &child, ppn);
  unsigned long fences = SYSINFO->shootdowns, interrupted = SYSINFO->shootdown_harts;
  int remapped = 0;
  for (int r = 1; r <= 100; r++)
    remapped += aspace_map(&child, WINDOW, ppn[r % 2 ? 2 : 1], PTE_R) == 0;
  check("a child that runs nowhere remapped 100 times", remapped, 100);
  check("... interrupting no hart", SYSINFO->shootdown_harts - interrupted, 0);
  check("... in no shootdown", SYSINFO->shootdowns - fences, 0);
  check("... and destroyed", sys_env_destroy(id), 0);
  check("the idler is gone", gone(id), 1);
  unshare_pages(ppn);
}

// Destroy a child while it runs on another hart, three times: each call
// succeeds, the child is gone when it returns, stops, its slot and pages come back, and nothing but
// the next child runs in the next child's pages (a hart that went on
// running a destroyed environment would run on in its pages as they are
// given out again).
static void destroy_running(void)
{
  struct control *c = (struct control *)PARENT;
  unsigned long free0 = SYSINFO->nfree;
  int ok = 0;
  for (int round = 0; round < 3; round++) {
    struct aspace child;
    long ppn[3];
    long id = child_sharing("spinner", spinner, &child, ppn);
    c->spins = c->hello = c->who = 0;
    sys_env_start(id);
    if (!beside(&c->spins) || c->hello != (unsigned long)id) {
      unshare_pages(ppn);
      break;
    }
    // Only this child writes here now: a hart still running one destroyed
    // earlier, in this child's reused pages, would write its old id.
    int strangers = 0;
    for (int i = 0; i < 100000; i++)
      strangers += c->who != 0 && c->who != (unsigned long)id;
    if (strangers != 0 || sys_env_destroy(id) != 0 || !gone_now(id)) {
      unshare_pages(ppn);
      break;
    }
    unsigned long spins = c->spins;
    for (volatile int i = 0; i < 100000; i++)
      ;
    ok += c->spins == spins;
    unshare_pages(ppn);
  }
  check("a child spinning on another hart destroyed, three times: gone when the call returned",
        ok, 3);
  check("... and its pages are free again", SYSINFO->nfree, free0);
  kcheck("destroy_running");
}

// A child owning every slice of hart 1 runs there alone, even while this
// program gives its own hart away again and again (free time on a hart
// goes only to environments that own slices of it, or of no hart). Three
// children in turn: each may be started first by either hart.
static void named_hart(void)
{
  struct control *c = (struct control *)PARENT;
  const volatile unsigned int *owner = (const volatile unsigned int *)USLICES;
  int owned = 0, home = 0, away = 0, left = 0;
  for (int round = 0; round < 3; round++) {
    struct aspace child;
    long ppn[3];
    long id = child_sharing("homebody", homebody, &child, ppn);
    for (int n = 0; n < NSLICES && sys_slice_alloc(id, -1 - 1) >= 0; n++)
      owned++;
    c->home = c->away = 0;
    sys_env_start(id);
    for (int i = 0; i < 200; i++)
      sys_yield(0);
    home += await(&c->home, 100000);
    away += c->away != 0;
    if (sys_env_destroy(id) != 0 || !gone_now(id))
      left++;
    for (int i = NSLICES; i < 2 * NSLICES; i++)
      left += owner[i] != 0;
    unshare_pages(ppn);
  }
  check("three children owning every slice of hart 1", owned, 3 * NSLICES);
  check("... each ran on hart 1", home, 3);
  check("... and none on another hart", away, 0);
  check("... destroyed, their slices are free again", left, 0);
  kcheck("named_hart");
}

// PCT to a callee running on another hart: the call waits there until
// that hart delivers it (the callee's hart is interrupted), and the answer
// comes back; 100 calls, each to a server spinning beside this program.
static void calls_across(void)
{
  struct control *c = (struct control *)PARENT;
  struct aspace child;
  long ppn[3];
  long id = child_sharing("server", server, &child, ppn);
  c->spins = 0;
  sys_env_start(id);
  int right = 0, beside_me = 0;
  for (int i = 0; i < 100 && beside(&c->spins); i++) {
    beside_me += running(id);
    right += sys_pct_call(OP_ADD, i, 1000, 0, 0, 0, id) == i + 1000;
  }
  check("100 calls to a server spinning on another hart, each answered right", right, 100);
  check("... the server was running elsewhere at the call", beside_me > 50, 1);
  check("destroy the server", sys_env_destroy(id) == 0 && gone_now(id), 1);
  unshare_pages(ppn);
  kcheck("calls_across");
}

// Make a caller of callee s with op (a child sharing the control page,
// ppn), and start it. Returns its id, or -1.
static long start_caller(long s, long op, long control_ppn)
{
  callee_id = s;
  call_op = op;
  long k = spawn_child("caller", caller);
  struct aspace as;
  aspace_init(&as, k);
  if (k < 0 || sys_page_grant(control_ppn, k, GRANT_R | GRANT_W) < 0 ||
      aspace_map(&as, SHARED, control_ppn, PTE_R | PTE_W) < 0)
    return -1;
  sys_env_start(k);
  return k;
}

// Wait until *word is no longer from, at most about a second; return it.
static long changed(volatile long *word, long from)
{
  unsigned long until = sys_uptime() + SYSINFO->timebase_hz;
  while (*word == from && (unsigned long)sys_uptime() < until)
    ;
  return *word;
}

// Destroy a callee running a call on another hart while its caller waits:
// the destroy returns once the callee is gone, and the caller's call
// returns -E_BADENV. Then the other way round: destroy a waiting caller
// while its callee runs the call on another hart; the callee's reply finds
// nobody waiting.
static void destroy_in_call(void)
{
  struct control *c = (struct control *)PARENT;
  struct aspace child;
  long ppn[3];
  long s = child_sharing("server", server, &child, ppn);
  c->spins = c->in_call = c->answered = 0;
  sys_env_start(s);
  long k = beside(&c->spins) ? start_caller(s, OP_HANG, ppn[0]) : -1;
  check("a call reached a server spinning on another hart", k > 0 && await(&c->in_call, 1), 1);
  check("destroy the server while it runs the call", sys_env_destroy(s), 0);
  check("... it is gone when the destroy returns", gone_now(s), 1);
  check("... and the caller's call returned -E_BADENV",
        await(&c->answered, 1) && c->result == -E_BADENV, 1);
  check("... and the caller ended", gone(k), 1);
  unshare_pages(ppn);

  s = child_sharing("server", server, &child, ppn);
  c->spins = c->in_call = c->answered = c->release = 0;
  c->reply = 1;
  sys_env_start(s);
  k = beside(&c->spins) ? start_caller(s, OP_HOLD, ppn[0]) : -1;
  check("a call held by a server on another hart", k > 0 && await(&c->in_call, 1), 1);
  check("destroy its waiting caller", sys_env_destroy(k) == 0 && gone_now(k), 1);
  c->release = 1;
  check("... the server's reply finds nobody waiting", changed(&c->reply, 1), -E_NOTWAITING);
  check("... and the server runs on", beside(&c->spins), 1);
  check("destroy the server", sys_env_destroy(s) == 0 && gone_now(s), 1);
  unshare_pages(ppn);
  kcheck("destroy_in_call");
}

// Slices are named hart * NSLICES + position; -1 - h is any of hart h's.
static void slices(void)
{
  long me = sys_getenvid(), harts = SYSINFO->harts_up;
  long s = sys_slice_alloc(me, -1 - 1);
  check("any slice of hart 1: named in hart 1's vector", s >= NSLICES && s < 2 * NSLICES, 1);
  const volatile unsigned int *owner = (const volatile unsigned int *)USLICES;
  check("... and exported there", owner[s], me);
  check("slice 3 of hart 1 by name", sys_slice_alloc(me, NSLICES + 3), NSLICES + 3);
  check("a hart that is not up: refused", sys_slice_alloc(me, harts * NSLICES), -E_INVAL);
  if (harts < MAXHARTS)  // (-1 - MAXHARTS: any slice of the hart with the most free)
    check("... nor any of its slices", sys_slice_alloc(me, -1 - harts), -E_INVAL);
  long any = sys_slice_alloc(me, -1 - MAXHARTS);
  check("any slice of any hart", any >= 0 && any < harts * NSLICES, 1);
  check("freed by name", sys_slice_free(s) == 0 && sys_slice_free(NSLICES + 3) == 0 &&
                             sys_slice_free(any) == 0 && owner[s] == 0, 1);
  kcheck("slices");
}

// Two harts making system calls without a break, this program on one and
// a child on hart 1: each gets the kernel lock in turn. A hart that takes
// the lock back as soon as it releases it, before the hart it woke has
// run, would starve that hart for good under -icount, where QEMU runs the
// harts one after another (LOCK_PATIENCE_US).
static void fair_lock(void)
{
  struct control *c = (struct control *)PARENT;
  struct aspace child;
  long ppn[3];
  long id = child_sharing("syscaller", syscaller, &child, ppn);
  int owned = 0;
  for (int n = 0; n < NSLICES && sys_slice_alloc(id, -1 - 1) >= 0; n++)
    owned++;
  c->spins = 0;
  sys_env_start(id);
  await(&c->spins, 1);
  unsigned long mine = 0, from = c->spins, end = sys_uptime() + MS(50);
  while (!past(end))
    mine++;  // (past makes a system call)
  unsigned long theirs = c->spins - from;
  printf("fair_lock: %lu calls here, %lu on hart 1\n", mine, theirs);
  check("a child making system calls on hart 1 beside this program's got the lock too",
        owned == NSLICES && theirs >= mine / 4, 1);
  check("... and was destroyed", sys_env_destroy(id) == 0 && gone_now(id), 1);
  unshare_pages(ppn);
  kcheck("fair_lock");
}

int main(int argc, char **argv)
{
  aspace_init(&self, sys_getenvid());
  check("several harts are up", SYSINFO->harts_up >= 2, 1);
  stop_if_failed("t_smp");
  if (argc >= 2 && strcmp(argv[1], "lock") == 0) {  // (lab smp: this only)
    fair_lock();
    finish("t_smp");
  }
  shootdowns(0);
  shootdowns(1);
  lazy_only();
  if (argc >= 2 && strcmp(argv[1], "shootdowns") == 0)  // (lab smp: these only)
    finish("t_smp");

  destroy_running();
  slices();
  named_hart();
  calls_across();
  destroy_in_call();
  finish("t_smp");
}
