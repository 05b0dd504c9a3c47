// Support for the kernel's own tests (user/t_*.c): checks that print one
// line each, a view of the exported tables, and a bare-hands address-space
// builder that uses the page-table calls directly, without ExOS's VM.
#ifndef TSUPPORT_H
#define TSUPPORT_H

#include "ulib/ulib.h"
#include "kernel/riscv.h"

static int checks, failures;

// For constants in assembly strings: XSTR(UAREA) is "0x3FFFFFF000".
#define STR(x) #x
#define XSTR(x) STR(x)

// Report one check: got must equal want.
static inline void check(const char *name, long got, long want)
{
  checks++;
  if (got == want) {
    printf("%s: ok\n", name);
  } else {
    failures++;
    printf("%s: FAIL: got %ld, want %ld\n", name, got, want);
  }
}

// Run the kernel's invariant checker; it prints its own line.
static inline void kcheck(const char *after)
{
  printf("after %s: ", after);
  check("kcheck", sys_kcheck(), 0);
}

// Print the summary line the grader looks for; exit non-zero on failure.
__attribute__((noreturn)) static inline void finish(const char *prog)
{
  if (failures == 0)
    printf("%s: all %d checks passed\n", prog, checks);
  else
    printf("%s: %d of %d checks FAILED\n", prog, failures, checks);
  exit(failures != 0);
}

// End the program now, with the summary, if a check has failed: the checks
// after it would only add the failure's consequences, or wait for a child
// that is gone.
static inline void stop_if_failed(const char *prog)
{
  if (failures != 0)
    finish(prog);
}

// The exported tables.
#define SYSINFO       ((const struct sysinfo *)USYSINFO)
#define ENVINFO(id)   (&((const struct env_info *)UENVS)[(id) & (SYSINFO->nenv - 1)])
#define PAGEINFO(ppn) (&((const struct page_info *)UPAGES)[(ppn)-SYSINFO->base_ppn])

// n milliseconds of machine time, in rdtime ticks.
#define MS(n) (SYSINFO->timebase_hz / 1000 * (n))

// Whether rdtime has passed `end` (a bound for a wait: with several harts
// up a yield may return at once, so a count of yields bounds no time).
static inline int past(unsigned long end)
{
  return (unsigned long)sys_uptime() >= end;
}

// Give environment id the processor until it waits (is not runnable), for
// a second of machine time at most.
static inline void run_until_blocked(long id)
{
  unsigned long end = sys_uptime() + MS(1000);
  while (ENVINFO(id)->status == ENV_RUNNABLE && !past(end))
    sys_yield(id);
}

// Give the others the processor for ms milliseconds of machine time.
static inline void let_run(unsigned long ms)
{
  unsigned long end = sys_uptime() + MS(ms);
  while (!past(end))
    sys_yield(0);
}

// A bare-hands address space: the page-table pages this program created in
// environment env, so that it can add leaves. For one's own address space,
// use only regions whose root entry the bootstrap loader left empty.
struct aspace {
  unsigned int env;
  unsigned long root;
  int n1, n0;
  struct {
    unsigned long i2, ppn;
  } pt1[8];
  struct {
    unsigned long i2, i1, ppn;
  } pt0[16];
};

static inline void aspace_init(struct aspace *as, unsigned int envid)
{
  memset(as, 0, sizeof(*as));
  as->env = envid;
  as->root = ENVINFO(envid)->root_ppn;
}

// The level-0 table covering va, created (and linked) if missing.
// Returns its page number or a negative error.
static inline long aspace_pt0(struct aspace *as, unsigned long va)
{
  unsigned long i2 = PX(2, va), i1 = PX(1, va), pt1 = 0;
  for (int i = 0; i < as->n0; i++)
    if (as->pt0[i].i2 == i2 && as->pt0[i].i1 == i1)
      return as->pt0[i].ppn;
  for (int i = 0; i < as->n1; i++)
    if (as->pt1[i].i2 == i2)
      pt1 = as->pt1[i].ppn;
  long err;
  if (pt1 == 0) {
    long p = sys_page_alloc(as->env, 0, PG_PT1);
    if (p < 0)
      return p;
    if ((err = sys_pte_write(as->root, i2, PA2PTE(p << 12) | PTE_V)) < 0)
      return err;
    pt1 = p;
    as->pt1[as->n1].i2 = i2;
    as->pt1[as->n1++].ppn = pt1;
  }
  long p = sys_page_alloc(as->env, 0, PG_PT0);
  if (p < 0)
    return p;
  if ((err = sys_pte_write(pt1, i1, PA2PTE(p << 12) | PTE_V)) < 0)
    return err;
  as->pt0[as->n0].i2 = i2;
  as->pt0[as->n0].i1 = i1;
  as->pt0[as->n0++].ppn = p;
  return p;
}

// Map page ppn at va with rights perm (PTE_R/W/X bits). Returns 0 or an error.
static inline long aspace_map(struct aspace *as, unsigned long va, unsigned long ppn,
                              unsigned long perm)
{
  long pt0 = aspace_pt0(as, va);
  if (pt0 < 0)
    return pt0;
  return sys_pte_write(pt0, PX(0, va), PA2PTE(ppn << 12) | perm | PTE_U | PTE_V | PTE_A | PTE_D);
}

// Remove the mapping at va. Returns 0 or an error.
static inline long aspace_unmap(struct aspace *as, unsigned long va)
{
  long pt0 = aspace_pt0(as, va);
  return pt0 < 0 ? pt0 : sys_pte_write(pt0, PX(0, va), 0);
}

// Clear, unlink and free every table this aspace created (their leaves
// are dropped, not freed). Returns 0 or the first error.
static inline long aspace_teardown(struct aspace *as)
{
  struct pte_write w[64];
  long err;
  for (int i = 0; i < as->n0; i++) {
    for (int k = 0; k < NPTENTRIES; k++) {
      w[k % 64] = (struct pte_write){as->pt0[i].ppn, k, 0};
      if (k % 64 == 63 && (err = sys_pte_write_batch(w, 64)) < 0)
        return err;
    }
    for (int j = 0; j < as->n1; j++)
      if (as->pt1[j].i2 == as->pt0[i].i2 &&
          (err = sys_pte_write(as->pt1[j].ppn, as->pt0[i].i1, 0)) < 0)
        return err;
    if ((err = sys_page_free(as->pt0[i].ppn)) < 0)
      return err;
  }
  for (int j = 0; j < as->n1; j++)
    if ((err = sys_pte_write(as->root, as->pt1[j].i2, 0)) < 0 ||
        (err = sys_page_free(as->pt1[j].ppn)) < 0)
      return err;
  as->n0 = as->n1 = 0;
  return 0;
}

// A region of this program's own address space for temporary mappings.
#define SCRATCH        0x2000000000UL
#define CHILD_STACKTOP 0x3000000000UL

extern char end[];
static struct aspace self;

// Wait until *word reaches want, at most about a second. Returns 1 if it did.
static inline int await(volatile unsigned long *word, unsigned long want)
{
  unsigned long until = sys_uptime() + SYSINFO->timebase_hz;
  while (*word < want)
    if ((unsigned long)sys_uptime() > until)
      return 0;
  return 1;
}

// Does *word advance by 1000 while this program runs without a break, so
// on another hart, within about a second? (A break: two readings of the
// clock more than 50 us apart, where the hart ran someone else; the count
// starts again after one.)
static inline int beside(volatile unsigned long *word)
{
  unsigned long gap = SYSINFO->timebase_hz / 20000, now = rdtime();
  unsigned long until = now + SYSINFO->timebase_hz, from = *word;
  while (now < until) {
    unsigned long then = now;
    now = rdtime();
    if (now - then > gap)
      from = *word;
    else if (*word - from >= 1000)
      return 1;
  }
  return 0;
}

// Is environment id gone already? (A destroy returns when its victim is
// gone, even one that was running on another hart.)
static inline int gone_now(long id)
{
  return ENVINFO(id)->id != (unsigned int)id;
}

// Wait until environment id is gone, at most about a second. Returns 1 if it is.
static inline int gone(long id)
{
  unsigned long until = sys_uptime() + SYSINFO->timebase_hz;
  while (ENVINFO(id)->id == (unsigned int)id && (unsigned long)sys_uptime() < until)
    ;
  return ENVINFO(id)->id != (unsigned int)id;
}

// Where a child made by spawn_child goes when its function returns. Such a
// child has no ExOS state of its own (no libmain ran), so it ends with the
// bare system call rather than ExOS's exit().
static inline void child_exit(void)
{
  sys_env_exit(0);
}

// Make a child environment that will run fn() on a copy of this program
// (code and data copied now, as a snapshot) with a fresh two-page stack
// below CHILD_STACKTOP; it ends
// when fn returns. Start it with sys_env_start. Returns its id or an error.
static inline long spawn_child(const char *name, void (*fn)(void))
{
  long id = sys_env_create(name), err;
  if (id < 0)
    return id;
  struct aspace as;
  aspace_init(&as, id);
  for (unsigned long va = 0x10000; va < (unsigned long)end; va += PGSIZE) {
    long ppn = sys_page_alloc(id, 0, PG_USER);
    if (ppn < 0)
      return ppn;
    // Our own view of the child's page, to fill it.
    if ((err = sys_page_grant(ppn, sys_getenvid(), GRANT_R | GRANT_W)) < 0 ||
        (err = aspace_map(&self, SCRATCH, ppn, PTE_R | PTE_W)) < 0)
      return err;
    memmove((void *)SCRATCH, (void *)va, PGSIZE);
    if ((err = aspace_unmap(&self, SCRATCH)) < 0 ||
        (err = sys_page_grant(ppn, sys_getenvid(), 0)) < 0 ||
        (err = aspace_map(&as, va, ppn, PTE_R | PTE_W | PTE_X)) < 0)
      return err;
  }
  for (unsigned long va = CHILD_STACKTOP - 2 * PGSIZE; va < CHILD_STACKTOP; va += PGSIZE) {
    long stack = sys_page_alloc(id, 0, PG_USER);
    if (stack < 0)
      return stack;
    if ((err = aspace_map(&as, va, stack, PTE_R | PTE_W)) < 0)
      return err;
  }
  if ((err = aspace_map(&as, UAREA, ENVINFO(id)->uarea_ppn, PTE_R)) < 0)
    return err;
  struct user_regs r = {0};
  r.pc = (unsigned long)fn;
  r.sp = CHILD_STACKTOP;
  r.ra = (unsigned long)child_exit;
  if ((err = sys_env_set_regs(id, &r)) < 0)
    return err;
  return id;
}

// Start child id and wait (yielding the processor) until it no longer exists.
static inline void run_child(long id)
{
  sys_env_start(id);
  while (ENVINFO(id)->id == (unsigned int)id)
    sys_yield(id);
}

// Define server_entry, a PCT entry for a child made by spawn_child: on a
// fresh stack (the lower page of the child's) it jumps to the program's
// server_call(op, x, y, a3, a4, a5, caller, kind), which never returns.
#define PCT_SERVER_ENTRY()                                                                         \
  void server_entry(void);                                                                         \
  void server_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind);    \
  asm(".globl server_entry\n"                                                                      \
      "server_entry:\n"                                                                            \
      "  li sp, 0x2FFFFFF000\n"                                                                    \
      "  j server_call\n");                                                                        \
  _Static_assert(CHILD_STACKTOP - PGSIZE == 0x2FFFFFF000UL, "server_entry's stack")

// Define revoke_entry, a revocation entry for a child made by spawn_child:
// on the lower page of its stack (CHILD_STACKTOP - PGSIZE) it calls
// handler(), then resumes where the child was (sp and ra kept in memory, gp
// the only scratch register; the pc to resume at is the u-area's).
#define REVOKE_ENTRY(handler)                                                                      \
  void revoke_entry(void);                                                                         \
  void handler(void);                                                                              \
  static unsigned long saved_sp __attribute__((used)), saved_ra __attribute__((used));             \
  asm(".globl revoke_entry\n"                                                                      \
      "revoke_entry:\n"                                                                            \
      "  la gp, saved_sp\n"                                                                        \
      "  sd sp, 0(gp)\n"                                                                           \
      "  la gp, saved_ra\n"                                                                        \
      "  sd ra, 0(gp)\n"                                                                           \
      "  li sp, 0x2FFFFFF000\n"                                                                    \
      "  call " #handler "\n"                                                                      \
      "  la gp, saved_ra\n"                                                                        \
      "  ld ra, 0(gp)\n"                                                                           \
      "  la gp, saved_sp\n"                                                                        \
      "  ld sp, 0(gp)\n"                                                                           \
      "  li gp, " XSTR(UAREA) "\n"                                                                 \
      "  ld gp, " XSTR(UAREA_REVOKE_PC) "(gp)\n"                                                   \
      "  jr gp\n")

#endif
