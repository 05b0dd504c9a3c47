// Visible revocation and the abort protocol.
//
// The kernel asks an environment to give resources back: `n` pages, a named
// page, or a time slice, by a deadline. It writes the request into the
// environment's u-area and enters its ENTRY_REVOKE (the pc it had is kept in
// revoke_pc), so the library OS can choose what to give back and free it. At
// the deadline the kernel checks: if the request is met, nothing else
// happens. If not, it takes what is missing by force -- breaking every
// mapping of the pages it takes -- records each page number (or slice) in
// the u-area's repossession vector, and enters ENTRY_REVOKE again so the
// library can repair its state. Page-table pages, the u-area, the first
// GUARANTEED_PAGES user pages and pages the disk may still write (pinned)
// are never taken.
//
// Requests come from a parent (sys_revoke, which tests use to be
// deterministic) or from the kernel when an allocation finds no free page:
// it then asks the environment holding the most user pages (never the
// asker). Above its fair share the request is enforced as any other; at or
// below it, it is a plea: asked (a file server gives back its clean cached
// blocks), never enforced, and one who lets a plea pass unanswered is not
// asked again until it allocates a page.

#include "defs.h"
#include "env.h"
#include "smp.h"
#include "riscv.h"

#define PRESSURE_PAGES   16            // asked of the biggest user under pressure
#define PRESSURE_US      10000         // ... within 10 ms
#define MAX_REVOKE_TICKS (10UL << 24)  // deadlines are clamped to about a second or more

static int pending;  // requests outstanding, so the timer check is free when none are

// Number of user (data) pages e owns.
static uint64 user_pages(struct env *e)
{
  uint64 n = 0;
  for (uint64 pa = owner_first_page(e->pub->id); pa != 0; pa = owner_next_page(pa))
    n += ppn2page(pa >> PGSHIFT)->type == PG_USER;
  return n;
}

// Make a revocation upcall to e due. A server asleep in pct_accept(PCT_SLEEP)
// would never get it: wake it (its pct_accept returns 0 after the upcall),
// refusing calls until it next calls pct_accept, so that no call enters
// it while it answers.
static void upcall_due(struct env *e)
{
  e->revoke_upcall = 1;
  if (e->pct_sleeping) {
    e->pct_sleeping = 0;
    e->pct_from = PCT_NOBODY;
    e->tf.a0 = 0;
    env_wake(e);
  }
}

// Has e given back all that its outstanding request asks for?
static int request_met(struct env *e)
{
  struct uarea *u = e->uarea;
  if (u->revoke_kind == REVOKE_PAGES)
    return user_pages(e) <= e->revoke_keep;
  if (u->revoke_kind == REVOKE_PAGE)
    return ppn2page(u->revoke_arg)->owner != e->pub->id;
  return slice_owner[u->revoke_arg] != e->pub->id;
}

// Ask e to give back (kind, arg) within `ticks` timer ticks. Returns 0,
// -E_AGAIN while an earlier request to e is outstanding and not yet met,
// or -E_INVAL for a request that names something e does not hold.
long revoke_request(struct env *e, int kind, uint64 arg, uint64 ticks)
{
  struct uarea *u = e->uarea;
  if (u->revoke_deadline != 0 && !request_met(e))
    return -E_AGAIN;
  if (u->revoke_deadline != 0) {  // met before its deadline: it is over
    u->revoke_deadline = 0;
    pending--;
  }
  if (kind == REVOKE_PAGES) {
    uint64 have = user_pages(e);
    e->revoke_keep = have > arg ? have - arg : 0;
  } else if (kind == REVOKE_PAGE) {
    if (!ppn_valid(arg) || ppn2page(arg)->owner != e->pub->id || ppn2page(arg)->type != PG_USER)
      return -E_INVAL;
  } else if (kind == REVOKE_SLICE) {
    if (arg >= SLICE_NAMES || slice_owner[arg] != e->pub->id)
      return -E_INVAL;
  } else {
    return -E_INVAL;
  }
  pending++;
  e->revoke_plea = 0;
  u->revoke_kind = kind;
  u->revoke_arg = arg;
  u->revoke_deadline = rdtime() + (ticks < MAX_REVOKE_TICKS ? ticks : MAX_REVOKE_TICKS) + 1;
  upcall_due(e);
  return 0;
}

// Take page pa from its owner e by force and note it in the repossession vector.
static void repossess_page(struct env *e, uint64 pa)
{
  struct uarea *u = e->uarea;
  rmap_each(pa, pte_unmap);
  grants_clear(pa);
  page_free(pa);
  if (u->repossessed_count < NREPOSSESSED)
    u->repossessed[u->repossessed_count] = pa >> PGSHIFT;
  u->repossessed_count++;
}

// The deadline of e's request has passed: take whatever it did not give.
static void abort_protocol(struct env *e)
{
  struct uarea *u = e->uarea;
  uint64 before = u->repossessed_count;
  if (e->revoke_plea) {  // a plea: nothing is taken
    e->declined = !request_met(e);
  } else if (u->revoke_kind == REVOKE_PAGES) {
    uint64 have = user_pages(e), keep = e->revoke_keep;
    if (keep < GUARANTEED_PAGES)
      keep = GUARANTEED_PAGES;
    // Take the most recently allocated pages first (the head of its list).
    for (uint64 pa = owner_first_page(e->pub->id), next; pa != 0 && have > keep; pa = next) {
      next = owner_next_page(pa);
      if (ppn2page(pa >> PGSHIFT)->type == PG_USER && !disk_page_busy(pa)) {
        repossess_page(e, pa);
        have--;
      }
    }
  } else if (u->revoke_kind == REVOKE_PAGE) {
    uint64 ppn = u->revoke_arg;
    if (ppn2page(ppn)->owner == e->pub->id && ppn2page(ppn)->type == PG_USER &&
        !disk_page_busy(ppn << PGSHIFT))
      repossess_page(e, ppn << PGSHIFT);
  } else if (slice_owner[u->revoke_arg] == e->pub->id) {
    slice_free(u->revoke_arg);
    if (u->repossessed_count < NREPOSSESSED)
      u->repossessed[u->repossessed_count] = u->revoke_arg;
    u->repossessed_count++;
  }
  u->revoke_deadline = 0;
  e->revoke_plea = 0;
  pending--;
  if (u->repossessed_count != before) {
    printf("rvexo: env %x (%s) did not answer a revocation; took %lu\n", e->pub->id, e->pub->name,
           u->repossessed_count - before);
    upcall_due(e);  // so it can repair its state
  }
}

// Called on every timer interrupt and at every slice start: run the abort
// protocol for each request whose deadline has passed.
void revoke_check_deadlines(void)
{
  if (pending == 0)
    return;
  uint64 now = rdtime();
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if (e->pub->status != ENV_FREE && e->uarea->revoke_deadline != 0 &&
        now >= e->uarea->revoke_deadline)
      abort_protocol(e);
  }
}

// e is about to run: enter its revocation entry if an upcall is due and it
// accepts upcalls now (otherwise the upcall waits for a later run).
void revoke_upcall_if_due(struct env *e)
{
  if (!e->revoke_upcall || e->in_epilogue || upcall_blocked(e, ENTRY_REVOKE))
    return;
  e->revoke_upcall = 0;
  e->uarea->revoke_pc = e->tf.pc;
  e->tf.pc = e->uarea->entry[ENTRY_REVOKE];
}

// An allocation by `asker` found no free page: ask the environment furthest
// above its fair share of user pages (never the asker itself) for some back.
// Returns 1 if a request was made, or one made earlier of another is still
// outstanding (memory should come back: with several harts, the asker can
// try again before the one asked has run), else 0.
int revoke_under_pressure(struct env *asker)
{
  uint64 total = 0, live = 0, most = 0;
  struct env *victim = NULL;
  int outstanding = 0;
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    if (e->pub->status == ENV_FREE)
      continue;
    uint64 n = user_pages(e);
    total += n;
    live++;
    int asked = e->uarea->revoke_deadline != 0 && !request_met(e);
    outstanding |= e != asker && asked;
    if (e != asker && n > most && !asked && !e->declined) {
      most = n;
      victim = e;
    }
  }
  if (victim == NULL || most <= GUARANTEED_PAGES ||
      revoke_request(victim, REVOKE_PAGES, PRESSURE_PAGES,
                     bootinfo.timebase_hz / 1000000 * PRESSURE_US) < 0)
    return outstanding;
  victim->revoke_plea = most <= total / live;
  return 1;
}

// Environment e is being destroyed: forget its outstanding request.
void revoke_forget(struct env *e)
{
  if (e->uarea->revoke_deadline != 0)
    pending--;
  e->uarea->revoke_deadline = 0;
}
