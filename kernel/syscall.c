// System calls. Numbers and the calling convention are in abi.h. Every
// argument is hostile until checked: environment ids must name a live
// environment the caller controls, page numbers must name RAM the caller
// may use, user pointers are only touched through the copy helpers, and
// lengths are bounded before any arithmetic on them.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

// Handlers stay out of line so that the dispatcher, on every system call's
// path, keeps a small frame.
#define NOINLINE __attribute__((noinline))

// Print len bytes (at most CPUTS_MAX) at user address va on the console.
// The bound keeps one call from holding the (non-preemptible) kernel long.
static NOINLINE long sys_cputs(struct env *e, uint64 va, uint64 len)
{
  char buf[128];
  if (len > CPUTS_MAX)
    return -E_INVAL;
  if (va > UTOP - len)
    return -E_FAULT;
  while (len > 0) {
    uint64 n = len < sizeof(buf) ? len : sizeof(buf);
    if (copy_from_user(e, buf, va, n) < 0)
      return -E_FAULT;
    console_write(buf, n);
    va += n;
    len -= n;
  }
  return 0;
}

// Return the next console input byte, or -E_AGAIN if none is waiting.
static NOINLINE long sys_cgetc(void)
{
  int c = console_getc();
  return c < 0 ? -E_AGAIN : c;
}

// Find the environment named by id (0: the caller itself) and check that
// the caller controls it. Sets *out; returns 0, -E_BADENV or -E_PERM.
static NOINLINE long lookup(struct env *caller, uint64 id, struct env **out)
{
  struct env *t = id == 0 ? caller : env_of(id);
  if (id > 0xFFFFFFFFUL || t == NULL)
    return -E_BADENV;
  if (!env_controls(caller, t))
    return -E_PERM;
  *out = t;
  return 0;
}

// The environment whose address space e runs in: e, or the owner of the
// tables a sibling runs on.
static inline struct env *space_of(struct env *e)
{
  return e->space_owner ? env_of(e->space_owner) : e;
}

// Create a child of `parent` with the name at user address name_va, for
// the calling environment e: an environment with an address space of its
// own, or (when space is not NULL) a sibling running in space, the owner's
// tables. Returns its id, -E_QUOTA when parent has ENV_CHILDREN_MAX
// children already, -E_BADENV if parent is being destroyed, -E_NOMEM or
// -E_NOENV.
static long create_child(struct env *e, uint64 name_va, struct env *parent, struct env *space)
{
  char name[16];
  long err = copy_string_from_user(e, name, name_va, sizeof(name));
  if (err < 0)
    return err;
  if (parent->doomed)
    return -E_BADENV;
  if (parent->nchildren >= ENV_CHILDREN_MAX)
    return -E_QUOTA;
  struct env *child = env_alloc(parent->pub->id, name, space);
  if (child == NULL)
    return pages_free() < (space ? 1 : 2) ? -E_NOMEM : -E_NOENV;
  return child->pub->id;
}

// Create a child environment with the given name. Returns its id, or an
// error as create_child says.
static NOINLINE long sys_env_create(struct env *e, uint64 name_va)
{
  return create_child(e, name_va, e, NULL);
}

// Create a sibling of the caller's address space (abi.h, "Siblings") with
// the given name: not runnable, no registers set, a child of the address
// space's owner. Returns its id or an error as create_child says.
static NOINLINE long sys_env_create_sibling(struct env *e, uint64 name_va)
{
  struct env *owner = space_of(e);
  return create_child(e, name_va, owner, owner);
}

// Make a created child runnable, once. Its registers must have been set.
// (A child that has run may be waiting for something: starting it again
// would run it while it waits.)
static NOINLINE long sys_env_start(struct env *e, uint64 id)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  if (t->started || t == e)
    return -E_RUNNING;
  if (t->tf.pc == 0)
    return -E_NOENTRY;
  t->started = 1;
  env_wake(t);
  return 0;
}

// Destroy the caller or one of its children.
static NOINLINE long sys_env_destroy(struct env *e, uint64 id)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  env_destroy(t);
  if (t == e || this_env() != e)
    schedule();  // (the caller is gone: itself, or its address space's owner)
  if (t->doomed)
    env_await_death(e, t);  // it runs on another hart: the call ends when it is gone
  return 0;
}

// Set all registers of a child that has not started.
static NOINLINE long sys_env_set_regs(struct env *e, uint64 id, uint64 regs_va)
{
  struct env *t;
  struct user_regs r;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  if (t == e || t->started)
    return -E_RUNNING;
  if (copy_from_user(e, &r, regs_va, sizeof(r)) < 0)
    return -E_FAULT;
  memmove(&t->tf, &r, sizeof(r));
  return 0;
}

// Register entry point `which` (0 clears it) of the caller or a child.
static NOINLINE long sys_env_set_entry(struct env *e, uint64 id, uint64 which, uint64 va)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  if (which >= NENTRIES || va >= UTOP)
    return -E_INVAL;
  t->uarea->entry[which] = va;
  return 0;
}

// Declare the exception stack [lo, hi) of the caller or a child: a fault on
// it, or on the page below it, destroys the environment. The page below
// must exist (lo >= PGSIZE), so lo - PGSIZE cannot wrap.
static NOINLINE long sys_env_set_xstack(struct env *e, uint64 id, uint64 lo, uint64 hi)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  if (lo < PGSIZE || lo >= hi || hi > UTOP || (lo | hi) & (PGSIZE - 1))
    return -E_INVAL;
  t->uarea->xstack_lo = lo;
  t->uarea->xstack_hi = hi;
  return 0;
}

// Allocate page ppn (0: any free page) of the given type for the caller or a
// child. Returns the page number.
static NOINLINE long sys_page_alloc(struct env *e, uint64 id, uint64 ppn, uint64 type)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  if (type != PG_USER && type != PG_PT0 && type != PG_PT1)
    return -E_INVAL;
  if (ppn != 0 && !ppn_valid(ppn))
    return -E_BADPPN;
  t = space_of(t);  // a sibling's pages are its address space's
  uint64 pa = page_alloc_at(ppn << PGSHIFT, t->pub->id, type);
  if (pa == 0 && ppn != 0)
    return -E_NOTFREE;
  if (pa == 0)
    return revoke_under_pressure(e) ? -E_AGAIN : -E_NOMEM;
  t->declined = 0;  // it may be asked under pressure again
  return pa >> PGSHIFT;
}

// The page ppn, if it belongs to the caller or to a child. Returns 0 and
// sets *pa, or an error.
static NOINLINE long own_page(struct env *e, uint64 ppn, uint64 *pa)
{
  if (!ppn_valid(ppn))
    return -E_BADPPN;
  struct page_info *pi = ppn2page(ppn);
  struct env *owner = env_of(pi->owner);
  if (owner == NULL || !env_controls(e, owner))
    return -E_PERM;
  *pa = ppn << PGSHIFT;
  return 0;
}

// Free page ppn. A user page loses every mapping and grant first; a
// page-table page must be empty and unlinked; roots and u-areas go only with
// their environment.
static NOINLINE long sys_page_free(struct env *e, uint64 ppn)
{
  uint64 pa;
  long err = own_page(e, ppn, &pa);
  if (err < 0)
    return err;
  int type = ppn2page(ppn)->type;
  if (type == PG_PT2 || type == PG_UAREA)
    return -E_BUSY;
  if ((type == PG_PT0 || type == PG_PT1) && !pt_empty(pa))
    return -E_BUSY;
  if (disk_page_busy(pa))
    return -E_BUSY;
  rmap_each(pa, pte_unmap);  // only others' read-only views for tables: none
  grants_clear(pa);
  page_free(pa);
  return 0;
}

// Grant environment id the rights (GRANT_R/W/X; 0 withdraws) on user page
// ppn. The caller (or its child) owns the page; or the caller holds a grant
// on it and passes on no more than it holds to an environment it controls
// (a grant flows down the creator tree: a process shares a pipe it was
// given with its own children), itself included (a holder may lower or
// give up its own grant). Lowering rights breaks the grantee's mappings of
// the page, and lowers what it passed on in turn. A new grant is charged
// to the caller (-E_QUOTA past its share).
static NOINLINE long sys_page_grant(struct env *e, uint64 ppn, uint64 id, uint64 rights)
{
  uint64 pa = ppn << PGSHIFT;
  long err = own_page(e, ppn, &pa);
  struct env *t = env_of(id);
  if (id > 0xFFFFFFFFUL || t == NULL)
    return -E_BADENV;
  if (err == -E_PERM && env_controls(e, t) && (rights & ~(uint64)grant_rights(pa, e->pub->id)) == 0)
    err = 0;  // delegation: no more than the caller holds, to its child
  if (err < 0)
    return err;
  if (ppn2page(ppn)->type != PG_USER || t->pub->id == ppn2page(ppn)->owner)
    return -E_INVAL;
  if (rights & ~(uint64)(GRANT_R | GRANT_W | GRANT_X) ||
      ((rights & GRANT_W) && !(rights & GRANT_R)))
    return -E_INVAL;
  uint32 old = grant_rights(pa, t->pub->id);
  if (old & ~rights) {
    unmap_in_env(pa, t->pub->id);
    grants_lower_below(pa, t->pub->id, rights);
  }
  return grant_set(pa, t->pub->id, rights, e);
}

// Apply n page-table writes from the user array at va, stopping at the first
// that fails. Returns n, or the error of the first failure (the writes
// before it stay done). The entries of an aligned array are read in place,
// each once (a page's worth at a time: no other hart runs this environment
// meanwhile); an entry across a page boundary, or a misaligned array, is
// copied in first.
static NOINLINE long sys_pte_write_batch(struct env *e, uint64 va, uint64 n)
{
  struct pte_write copy;
  if (n > 4096)
    return -E_INVAL;
  for (uint64 done = 0; done < n;) {
    uint64 at = va + done * sizeof(copy);
    uint64 chunk = (PGSIZE - (at & (PGSIZE - 1))) / sizeof(copy);
    if (chunk > n - done)
      chunk = n - done;
    const struct pte_write *w =
        (at & 7) || chunk == 0 ? NULL : user_view(e, at, chunk * sizeof(copy));
    if (w == NULL && (at & 7) == 0 && chunk > 0)
      return -E_FAULT;
    if (w == NULL) {  // misaligned, or across a page boundary: one entry at a time
      if (copy_from_user(e, &copy, at, sizeof(copy)) < 0)
        return -E_FAULT;
      w = &copy;
      chunk = 1;
    }
    long err = pte_write_many(e, w, chunk);
    tlb_note_space(e);  // its common writes, into its own tables
    if (err < 0)
      return err;
    done += chunk;
  }
  return n;
}

// Allocate time slice `position` (-1: any) for the caller or a child.
static NOINLINE long sys_slice_alloc(struct env *e, uint64 id, uint64 position)
{
  struct env *t;
  long err = lookup(e, id, &t);
  return err < 0 ? err : slice_alloc(t, (long)position);
}

// Free a time slice owned by the caller or a child.
static NOINLINE long sys_slice_free(struct env *e, uint64 position)
{
  if (position >= SLICE_NAMES || slice_owner[position] == 0)
    return -E_INVAL;
  struct env *t = env_of(slice_owner[position]);
  if (t == NULL || !env_controls(e, t))
    return -E_PERM;
  slice_free(position);
  return 0;
}

// Ask a child (or oneself) to give back resources by a deadline (see revoke.c).
static NOINLINE long sys_revoke(struct env *e, uint64 id, uint64 kind, uint64 arg, uint64 ticks)
{
  struct env *t;
  long err = lookup(e, id, &t);
  if (err < 0)
    return err;
  return kind > REVOKE_SLICE ? -E_INVAL : revoke_request(t, kind, arg, ticks);
}

// Carry out system call `num` with arguments a0..a5 for the current
// environment and return its result (for a0). Reached from the fast path in
// trapvec.S, where only ra, sp and tp were saved, and from trap_user() with
// every register saved; the calls in SWITCHING_SYSCALLS, which read the
// saved registers and do not return, come only the second way.
//
// It needs no frame of its own: each handler is reached by a tail call.
__attribute__((optimize("omit-frame-pointer", "optimize-sibling-calls"))) long
syscall(uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5, uint64 num)
{
  struct env *e = this_env();
  struct trapframe *tf = &e->tf;
  switch (num) {
  case SYS_cputs:
    return sys_cputs(e, a0, a1);
  case SYS_cgetc:
    return sys_cgetc();
  case SYS_cgetc_wait:
    return console_getc_wait(e);
  case SYS_env_wait:
    return a0 > 0xFFFFFFFFUL ? -E_BADENV : env_wait(e, a0, a1);
  case SYS_getenvid:
    return e->pub->id;
  case SYS_env_exit:
    env_destroy(e);
    schedule();
  case SYS_env_create:
    return sys_env_create(e, a0);
  case SYS_env_create_sibling:
    return sys_env_create_sibling(e, a0);
  case SYS_env_start:
    return sys_env_start(e, a0);
  case SYS_env_destroy:
    return sys_env_destroy(e, a0);
  case SYS_env_set_regs:
    return sys_env_set_regs(e, a0, a1);
  case SYS_env_set_entry:
    return sys_env_set_entry(e, a0, a1, a2);
  case SYS_env_set_xstack:
    return sys_env_set_xstack(e, a0, a1, a2);
  case SYS_page_alloc:
    return sys_page_alloc(e, a0, a1, a2);
  case SYS_page_free:
    return sys_page_free(e, a0);
  case SYS_page_grant:
    return sys_page_grant(e, a0, a1, a2);
  case SYS_pte_write:
    return pte_write(e, a0, a1, a2);
  case SYS_pte_write_batch:
    return sys_pte_write_batch(e, a0, a1);
  case SYS_yield:
    return a0 > 0xFFFFFFFFUL ? -E_BADENV : sched_yield(e, a0);
  case SYS_slice_alloc:
    return sys_slice_alloc(e, a0, a1);
  case SYS_slice_free:
    return sys_slice_free(e, a0);
  case SYS_pct_call:
    return pct_transfer(e, tf->a6, PCT_SYNC);
  case SYS_pct_send:
    return pct_transfer(e, tf->a6, PCT_ASYNC);
  case SYS_pct_reply:
    return pct_reply(e, tf->a6);
  case SYS_pct_accept:
    return pct_accept(e, a0);
  case SYS_revoke:
    return sys_revoke(e, a0, a1, a2, a3);
  case SYS_disk_bind:
    return disk_bind(e, a0, a1, a2);
  case SYS_disk_unbind:
    return disk_unbind(e, a0, a1, a2);
  case SYS_disk_io:
    return disk_io(e, a0, a1, a2);
  case SYS_disk_status:
    return disk_status(e, a0);
  case SYS_disk_wait:
    return disk_wait(e, a0);
  case SYS_net_filter:
    return net_filter(e, a0, a1, a2, a3);
  case SYS_net_unfilter:
    return net_unfilter(e, a0);
  case SYS_net_wait:
    return net_wait(e, a0, a1, a2);
  case SYS_net_send:
    return net_send(e, a0, a1, a2);
  case SYS_net_status:
    return net_status(e, a0, a1);
  case SYS_net_handler:
    return net_handler(e, a0, a1, a2, a3, a4);
  case SYS_uptime:
    return rdtime();
  case SYS_kcheck:
    return kcheck();
  default:
    return -E_NOSYS;
  }
}
