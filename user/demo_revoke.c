// demo_revoke: visible revocation and the abort protocol (demo revoke).
// The kernel does not take resources silently: it asks the environment
// (an upcall to its revocation entry, with what and by when), and the
// environment chooses what to give back. One that does not answer by the
// deadline loses them by force, and the kernel writes what it took into
// the environment's repossession vector (in its u-area) so it can tell.
// Two children fill a pool of pages each: a cooperative one, with a
// revocation entry, and one that ignores revocation. The parent asks both
// for 10 pages and watches the exported page table. Runs from the shell
// or first. Under the view pace (demo_revoke -v, user/demo.h) the
// deadline is the hold's length and more: it holds while the ignoring
// child's revocation is pending, and again once its repossession vector
// is filled, both children alive.

#include "user/tsupport.h"
#include "user/demo.h"

#define U    ((const volatile struct uarea *)UAREA)
#define POOL 40
#define ASK  10

static long pool[POOL];  // a child's own pages (owned, unmapped)
static int npool;
static volatile int upcalls, given;  // the cooperative child's answers

// The revocation entry (tsupport.h) runs revoke_handler.
REVOKE_ENTRY(revoke_handler);

// The cooperative child's policy: give back what is asked, from its pool.
void revoke_handler(void)
{
  upcalls++;
  if (U->revoke_deadline != 0 && U->revoke_kind == REVOKE_PAGES)
    for (unsigned long i = 0; i < U->revoke_arg && npool > 0; i++, given++)
      sys_page_free(pool[--npool]);
}

// Fill the pool with POOL pages of this child's own.
static void fill_pool(void)
{
  while (npool < POOL)
    pool[npool++] = sys_page_alloc(0, 0, PG_USER);
}

// Answers revocation: says so once it has.
static void cooperative(void)
{
  fill_pool();
  sys_env_set_entry(0, ENTRY_REVOKE, (unsigned long)revoke_entry);
  while (upcalls == 0)
    sys_yield(0);
  printf("  cooperative: revocation upcall: asked for %lu pages; gave back %d of its choice\n",
         U->revoke_arg, given);
  for (;;)
    sys_yield(0);
}

// Ignores revocation; prints its repossession vector once pages are taken.
static void ignoring(void)
{
  fill_pool();
  while (U->repossessed_count < ASK)
    sys_yield(0);
  printf("  ignoring: no answer by the deadline; repossession vector (%u entries):",
         U->repossessed_count);
  for (unsigned int i = 0; i < U->repossessed_count; i++)
    printf(" %lx", U->repossessed[i]);
  printf("\n");
  for (;;)
    sys_yield(0);
}

// User pages env id owns, counted from the exported page table.
static long user_pages(long id)
{
  long n = 0;
  for (unsigned long p = SYSINFO->base_ppn; p < SYSINFO->base_ppn + SYSINFO->npages; p++)
    n += PAGEINFO(p)->owner == (unsigned int)id && PAGEINFO(p)->type == PG_USER;
  return n;
}

// Let the children run for ms milliseconds of machine time, at the demo's pace.
static void let_run_paced(unsigned long ms)
{
  unsigned long end = sys_uptime() + pace_ticks(ms);
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
}

// Start both children, ask each for ASK pages, watch. Exits 0 if the
// cooperative one gave ASK back, ASK were taken from the other, both ran
// on, and kcheck passed.
int main(int argc, char **argv)
{
  pace_args(&argc, &argv);
  unsigned long deadline_ms = pace ? pace * 1000 + 20 : 20;
  printf("revoke: the kernel asks before it takes: an upcall says what and by when. Two\n"
         "revoke: children hold pages, one cooperative, one that ignores revocation; the\n"
         "revoke: parent asks each for %d pages within %lu ms:\n",
         ASK, deadline_ms);
  aspace_init(&self, sys_getenvid());
  long c = spawn_child("cooperative", cooperative), s = spawn_child("ignoring", ignoring);
  long cbase = user_pages(c), sbase = user_pages(s);  // (code, data and stack)
  if (c < 0 || s < 0 || sys_env_start(c) < 0 || sys_env_start(s) < 0) {
    printf("revoke: verdict: FAILED: cannot start the children\n");
    return 1;
  }
  // Until both pools are full (on other harts they fill while this runs).
  unsigned long full = sys_uptime() + MS(1000);
  while ((user_pages(c) < cbase + POOL || user_pages(s) < sbase + POOL) && !past(full))
    sys_yield(0);
  let_run_paced(5);
  long c0 = user_pages(c), s0 = user_pages(s);
  printf("  cooperative holds %ld pages, ignoring %ld\n", c0, s0);
  long ec = sys_revoke(c, REVOKE_PAGES, ASK, pace_ticks(deadline_ms));
  long es = sys_revoke(s, REVOKE_PAGES, ASK, pace_ticks(deadline_ms));
  pace_hold("revoke", "the ignoring child's revocation pending, its deadline not yet passed");
  let_run_paced(40);
  long c1 = user_pages(c), s1 = user_pages(s);
  printf("  after the deadline: cooperative holds %ld pages (gave back %ld), ignoring %ld "
         "(%ld taken by force)\n",
         c1, c0 - c1, s1, s0 - s1);
  pace_hold("revoke", "the ignoring child's repossession vector filled, both children alive");
  int alive = ENVINFO(c)->id == (unsigned int)c && ENVINFO(s)->id == (unsigned int)s;
  sys_env_destroy(c);
  sys_env_destroy(s);
  long kc = sys_kcheck();
  aspace_teardown(&self);
  int ok = ec == 0 && es == 0 && c0 - c1 == ASK && s0 - s1 == ASK && alive && kc == 0;
  printf("revoke: verdict: %s\n", ok ? "the cooperative child chose its pages, the ignoring one "
                                       "lost them by force (its vector names them); kcheck OK"
                                     : "FAILED");
  return ok ? 0 : 1;
}
