// t_revoke: visible revocation and the abort protocol.

#include "user/tsupport.h"

#define U    ((const volatile struct uarea *)UAREA)
#define POOL 40

static long pool[POOL];  // a child's own pages (owned, unmapped)
static int npool;
static volatile int upcalls;  // revocation upcalls a child received

// The revocation entry (tsupport.h) runs revoke_handler.
REVOKE_ENTRY(revoke_handler);

// Give back what the kernel asks for, from the pool.
void revoke_handler(void)
{
  upcalls++;
  if (U->revoke_deadline != 0 && U->revoke_kind == REVOKE_PAGES)
    for (unsigned long i = 0; i < U->revoke_arg && npool > 0; i++)
      sys_page_free(pool[--npool]);
}

static void fill_pool(void)
{
  while (npool < POOL)
    pool[npool++] = sys_page_alloc(0, 0, PG_USER);
}

static void idle_forever(void)
{
  for (;;)
    sys_yield(0);
}

// A child that answers revocation requests.
static void cooperative(void)
{
  fill_pool();
  sys_env_set_entry(0, ENTRY_REVOKE, (unsigned long)revoke_entry);
  idle_forever();
}

// A server that waits for calls without the processor: a revocation must
// wake it to answer, and it sleeps again after.
static void sleeper(void)
{
  fill_pool();
  sys_env_set_entry(0, ENTRY_REVOKE, (unsigned long)revoke_entry);
  for (;;)
    sys_pct_accept(PCT_SLEEP);
}

// A child that ignores them, then reads its repossession vector: the first
// 10 entries must be pages of its pool, now free.
static void stubborn(void)
{
  fill_pool();
  while (U->repossessed_count < 10)
    sys_yield(0);
  int from_pool = 0;
  for (int i = 0; i < 10; i++)
    for (int k = 0; k < POOL; k++)
      from_pool += pool[k] == (long)U->repossessed[i] && PAGEINFO(pool[k])->type == PG_FREE;
  check("child: repossession vector names 10 pages taken from its pool", from_pool, 10);
  idle_forever();
}

_Static_assert(SYS_yield == 16, "yield_loop's system call number");

// Yield n times with the pc inside [yield_loop, yield_loop_end).
void yield_loop(long n);
extern char yield_loop_end[];
asm(".globl yield_loop, yield_loop_end\n"
    "yield_loop:\n"
    "  mv t0, a0\n"
    "1:li a7, 16\n"  // SYS_yield
    "  li a0, 0\n"
    "  ecall\n"
    "  addi t0, t0, -1\n"
    "  bnez t0, 1b\n"
    "  ret\n"
    "yield_loop_end:\n");

// A child that declares a critical word, then an upcall-free pc range: the
// parent's request must reach it only when it leaves both.
static void shy(void)
{
  static volatile unsigned long critical = 1;
  // The critical word and the range first: the parent's request may come
  // at any moment (from another hart), and with the entry set first an
  // upcall could come before they were declared.
  sys_env_set_entry(0, ENTRY_CRITICAL, (unsigned long)&critical);
  sys_env_set_entry(0, ENTRY_NOUPCALL_LO, (unsigned long)yield_loop);
  sys_env_set_entry(0, ENTRY_NOUPCALL_HI, (unsigned long)yield_loop_end);
  sys_env_set_entry(0, ENTRY_REVOKE, (unsigned long)revoke_entry);
  while (U->revoke_deadline == 0)
    sys_yield(0);
  for (int i = 0; i < 200; i++)
    sys_yield(0);
  check("child: no revocation upcall while its critical word is set", upcalls, 0);
  critical = 0;
  yield_loop(200);
  check("child: none while its pc is in its upcall-free range", upcalls, 0);
  for (int i = 0; i < 10 && upcalls == 0; i++)
    sys_yield(0);
  check("child: the upcall came once it left both", upcalls, 1);
}

// A child that takes every free page.
static void hog(void)
{
  while (sys_page_alloc(0, 0, PG_USER) > 0)
    ;
  idle_forever();
}

// A child that tries to revoke from its parent.
static void rebel(void)
{
  check("child: revoke from parent refused",
        sys_revoke(ENVINFO(sys_getenvid())->parent_id, REVOKE_PAGES, 1, 1000), -E_PERM);
}

// User pages env id owns, counted from the exported page table.
static long user_pages(long id)
{
  long n = 0;
  for (unsigned long p = SYSINFO->base_ppn; p < SYSINFO->base_ppn + SYSINFO->npages; p++)
    n += PAGEINFO(p)->owner == (unsigned int)id && PAGEINFO(p)->type == PG_USER;
  return n;
}

// One of env id's unmapped user pages.
static long unmapped_page_of(long id)
{
  for (unsigned long p = SYSINFO->base_ppn; p < SYSINFO->base_ppn + SYSINFO->npages; p++)
    if (PAGEINFO(p)->owner == (unsigned int)id && PAGEINFO(p)->type == PG_USER &&
        PAGEINFO(p)->mapcount == 0)
      return p;
  return -1;
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);
  long c = spawn_child("coop", cooperative), s = spawn_child("stubborn", stubborn);
  sys_env_start(c);
  sys_env_start(s);
  let_run(5);
  long c0 = user_pages(c), s0 = user_pages(s), mine = user_pages(me);
  check("children filled their pools", c0 > POOL && s0 > POOL, 1);

  check("ask the cooperative child for 10 pages", sys_revoke(c, REVOKE_PAGES, 10, MS(20)), 0);
  check("ask the stubborn child for 10 pages", sys_revoke(s, REVOKE_PAGES, 10, MS(20)), 0);
  let_run(40);
  check("cooperative child gave 10 pages back", user_pages(c), c0 - 10);
  check("ask it for one more, by a distant deadline", sys_revoke(c, REVOKE_PAGES, 1, MS(1000)), 0);
  for (unsigned long end = sys_uptime() + MS(2000); user_pages(c) > c0 - 11 && !past(end);)
    sys_yield(0);
  check("... it answered", user_pages(c), c0 - 11);
  check("a request met before its deadline is over: a new one is taken at once",
        sys_revoke(c, REVOKE_PAGES, 1, MS(1000)), 0);
  for (unsigned long end = sys_uptime() + MS(2000); user_pages(c) > c0 - 12 && !past(end);)
    sys_yield(0);
  check("stubborn child lost 10 pages by force", user_pages(s), s0 - 10);
  check("both still run", ENVINFO(c)->id == (unsigned int)c && ENVINFO(s)->id == (unsigned int)s,
        1);
  check("the parent lost nothing", user_pages(me), mine);
  kcheck("revoking pages");

  long victim = unmapped_page_of(s);
  check("ask for a named page", sys_revoke(s, REVOKE_PAGE, victim, MS(10)), 0);
  check("give the stubborn child slice 7", sys_slice_alloc(s, 7), 7);
  check("a second request while one is outstanding refused", sys_revoke(s, REVOKE_SLICE, 7, MS(10)),
        -E_AGAIN);
  let_run(30);
  check("the named page was taken", PAGEINFO(victim)->type, PG_FREE);
  check("ask for slice 7", sys_revoke(s, REVOKE_SLICE, 7, MS(10)), 0);
  let_run(30);
  check("slice 7 was taken", ((const volatile unsigned int *)USLICES)[7], 0);
  check("ask for 1000 pages", sys_revoke(s, REVOKE_PAGES, 1000, MS(10)), 0);
  let_run(30);
  check("the guaranteed pages stay", user_pages(s), GUARANTEED_PAGES);
  check("the child survived", ENVINFO(s)->id, s);
  kcheck("repossession");

  long z = spawn_child("sleeper", sleeper);
  sys_env_start(z);
  let_run(5);
  long z0 = user_pages(z);
  check("a server sleeps in pct_accept(PCT_SLEEP)", ENVINFO(z)->status, ENV_NOT_RUNNABLE);
  check("ask it for 10 pages", sys_revoke(z, REVOKE_PAGES, 10, MS(20)), 0);
  let_run(40);
  check("the revocation woke it and it gave 10 pages back (the grader sees none taken)",
        user_pages(z), z0 - 10);
  check("... then it slept again", ENVINFO(z)->status, ENV_NOT_RUNNABLE);
  sys_env_destroy(z);
  kcheck("a sleeping server");

  check("revoke an unknown kind refused", sys_revoke(s, 9, 0, 0), -E_INVAL);
  check("revoke a page the child does not own refused", sys_revoke(s, REVOKE_PAGE, self.root, 0),
        -E_INVAL);
  check("revoke a slice the child does not own refused", sys_revoke(s, REVOKE_SLICE, 8, 0),
        -E_INVAL);
  check("revoke a slice out of range refused", sys_revoke(s, REVOKE_SLICE, 64, 0), -E_INVAL);
  check("revoke from nobody refused", sys_revoke(0x7fffff, REVOKE_PAGES, 1, 0), -E_BADENV);
  long r = spawn_child("rebel", rebel);
  run_child(r);
  long shy_child = spawn_child("shy", shy);
  sys_env_start(shy_child);
  check("ask a child in its critical section", sys_revoke(shy_child, REVOKE_PAGES, 1, MS(500)), 0);
  while (ENVINFO(shy_child)->id == (unsigned int)shy_child)
    sys_yield(0);
  sys_env_destroy(c);
  sys_env_destroy(s);
  kcheck("attacks");

  // Memory pressure: the biggest user is asked to give pages back.
  long h = spawn_child("hog", hog);
  sys_env_start(h);
  while (SYSINFO->nfree > 0)
    sys_yield(h);
  check("allocation under pressure starts a revocation", sys_page_alloc(0, 0, PG_USER), -E_AGAIN);
  let_run(30);
  long p = sys_page_alloc(0, 0, PG_USER);
  check("after the deadline a page is free", p > 0, 1);
  sys_page_free(p);
  sys_env_destroy(h);
  kcheck("memory pressure");
  check("tear down scratch tables", aspace_teardown(&self), 0);
  finish("t_revoke");
}
