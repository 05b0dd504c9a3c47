// Page-table writes: the secure binding for memory.
//
// A library OS builds its own Sv39 page tables. It names a page-table page
// (by physical page number) and an index, and gives the entry to write; the
// kernel checks the entry in constant time and writes it. The rules:
//   - the page-table page belongs to the caller or to a child it controls;
//     in a root table only the user half (indices 0..255) may be written;
//   - a leaf is at level 0 (no superpages), has U set and G clear, has R
//     whenever it has W, and no reserved bits (63..54);
//   - a leaf maps a user page its table's owner owns, or holds a grant for
//     with at least the rights asked for; or, read-only, one of the owner's
//     own page-table pages or its u-area; never a kernel or free page;
//   - a non-leaf points to a page-table page of the next lower level owned
//     by the same environment, which is not linked anywhere else;
//   - writing an invalid entry (V clear) is always allowed;
//   - the RSW bits (9..8) are the library OS's and pass through untouched.
// Every mapping is recorded in the reverse map, so the kernel can break it
// when the page is freed or a grant is withdrawn.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

#define PTE_RESERVED_BITS (0x3FFUL << 54)
#define LEAF_BITS         (PTE_V | PTE_RWX | PTE_U | PTE_G | PTE_A | PTE_D | PTE_RSW)
extern struct page_info *pages;

// ---------------------------------------------------------------- reverse map
//
// Every leaf PTE that maps a page is on that page's list. A list node is a
// PTE slot: node n+1 is slot n % 512 of the level-0 table with page index
// n / 512. Each level-0 table has a kernel "shadow" page holding the next and
// prev links of its 512 slots, so adding and removing a mapping is O(1) and
// the reverse map can never run out of records.

struct rnode {
  uint32 next, prev;  // neighbouring nodes on the mapped page's list (0: none)
};

static inline uint32 pte_node(uint64 pte_pa)
{
  return ((pte_pa >> PGSHIFT) - base_ppn) * NPTENTRIES + (pte_pa & (PGSIZE - 1)) / sizeof(uint64) +
         1;
}

static inline uint64 node_pte(uint32 node)
{
  return (((node - 1) / NPTENTRIES + base_ppn) << PGSHIFT) +
         (node - 1) % NPTENTRIES * sizeof(uint64);
}

static inline struct rnode *node_links(uint32 node)
{
  uint32 table = (node - 1) / NPTENTRIES;
  return (struct rnode *)KADDR((priv[table].shadow + base_ppn) << PGSHIFT) +
         (node - 1) % NPTENTRIES;
}

// Record that the leaf PTE at pte_pa (in a level-0 table, its slot not
// linked anywhere) maps the page at pa.
static inline __attribute__((always_inline)) void rmap_add(uint64 pa, uint64 pte_pa)
{
  // LAB bindings: put the slot's node at the head of pa's list; count the mapping
  struct page_priv *pp = page_priv_of(pa);
  uint32 node = pte_node(pte_pa);
  *node_links(node) = (struct rnode){pp->rmap, 0};
  if (pp->rmap)
    node_links(pp->rmap)->prev = node;
  pp->rmap = node;
  ppn2page(pa >> PGSHIFT)->mapcount++;
  // END LAB bindings
}

// Forget that the leaf PTE at pte_pa maps the page at pa.
static inline __attribute__((always_inline)) void rmap_remove(uint64 pa, uint64 pte_pa)
{
  // LAB bindings: take the slot's node off pa's list; uncount the mapping
  uint32 node = pte_node(pte_pa);
  struct rnode *n = node_links(node);
  if (n->prev)
    node_links(n->prev)->next = n->next;
  else
    page_priv_of(pa)->rmap = n->next;
  if (n->next)
    node_links(n->next)->prev = n->prev;
  ppn2page(pa >> PGSHIFT)->mapcount--;
  // END LAB bindings
}

// Call fn(pte_pa) for every leaf PTE that maps the page at pa. fn may
// remove the mapping it is given (and only that one).
void rmap_each(uint64 pa, void (*fn)(uint64 pte_pa))
{
  for (uint32 r = page_priv_of(pa)->rmap, next; r != 0; r = next) {
    next = node_links(r)->next;
    fn(node_pte(r));
  }
}

// ---------------------------------------------------------------- writes

// The level (0..2) of a page-table page.
static int pt_level(struct page_info *pi)
{
  return pi->type - PG_PT0;
}

static int is_pt(struct page_info *pi)
{
  return pi->type == PG_PT0 || pi->type == PG_PT1 || pi->type == PG_PT2;
}

// Are the eight entries from t[0] all zero? Tables are mostly empty: a
// scan of one tests eight entries at once.
static inline int eight_empty(const uint64 *t)
{
  return (t[0] | t[1] | t[2] | t[3] | t[4] | t[5] | t[6] | t[7]) == 0;
}

// Record the first virtual address the table at pt_pa translates (va | 1),
// or 0 when it is no longer linked up to a root; a level-1 table passes the
// news on to the level-0 tables linked in it.
static void set_table_va(uint64 pt_pa, uint64 va)
{
  *table_va_of(pt_pa) = va;
  if (pt_level(ppn2page(pt_pa >> PGSHIFT)) != 1)
    return;
  uint64 *t = KADDR(pt_pa);
  for (int i = 0; i < NPTENTRIES; i += 8) {
    if (eight_empty(&t[i]))
      continue;
    for (int k = i; k < i + 8; k++)
      if ((t[k] & PTE_V) && !PTE_IS_LEAF(t[k]))
        *table_va_of(PTE_PA(t[k])) = va ? va | ((uint64)k << (PGSHIFT + 9)) : 0;
  }
}

// The table_va a table gets when linked at entry `index` of the level-`level`
// table at parent_pa.
static uint64 child_table_va(uint64 parent_pa, int level, uint64 index)
{
  uint64 parent = *table_va_of(parent_pa);
  if (!(parent & 1))
    return 0;
  return parent | (index << (PGSHIFT + 9 * level));
}

// A root table translates from address 0 and is always in use.
void pt_root_init(uint64 root_pa)
{
  *table_va_of(root_pa) = 1;
}

// Flush the TLB after entry `index` of the level-`level` table at pt_pa
// changed in owner's address space (and note that the other harts' TLBs
// need it too: smp.h). Nothing to do for a table not linked up to a root:
// no translation can have gone through it.
static inline void flush_entry(uint64 pt_pa, int level, uint64 index, int leaf, struct env *owner)
{
  uint64 asid = owner->asid;
  uint64 base = *table_va_of(pt_pa);
  if (!(base & 1))
    return;
  uint64 va = (base & ~1UL) | (index << (PGSHIFT + 9 * level));
  if (leaf)
    asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(asid) : "memory");
  else
    asm volatile("sfence.vma zero, %0" ::"r"(asid) : "memory");
  tlb_note_remote(owner);  // (its siblings: the general paths, tlb_note_siblings_of)
}

// Check that pte may be written into a level-`level` table of env owner.
// Returns 0 or the negative error naming the broken rule.
static inline __attribute__((always_inline)) long check_pte(uint64 pte, int level, uint32 owner,
                                                            uint64 pte_pa)
{
  // LAB bindings: the rules at the top of this file, the first one broken named by its error
  // HANDOUT: return 0;
  if (!(pte & PTE_V))
    return 0;
  if (pte & PTE_RESERVED_BITS)
    return -E_BADBITS;
  uint64 ppn = PTE_PPN(pte);
  if (!ppn_valid(ppn))
    return -E_BADPPN;
  struct page_info *pi = ppn2page(ppn);

  if (!PTE_IS_LEAF(pte)) {
    if (level == 0)
      return -E_BADLINK;
    if (pte & (PTE_U | PTE_G | PTE_A | PTE_D))
      return -E_BADBITS;
    if (pi->type != PG_PT0 + level - 1 || pi->owner != owner)
      return -E_BADLINK;
    uint64 link = *link_pte_of(ppn << PGSHIFT);
    if (link != 0 && link != pte_pa)
      return -E_LINKED;
    return 0;
  }

  if (level != 0)
    return -E_SUPERPAGE;
  if (!(pte & PTE_U) || (pte & PTE_G))
    return -E_NOTUSER;
  if ((pte & PTE_W) && !(pte & PTE_R))
    return -E_BADBITS;
  uint64 want = pte & PTE_RWX;
  if (pi->type == PG_USER) {
    uint64 held = pi->owner == owner ? PTE_RWX : grant_rights(ppn << PGSHIFT, owner);
    return (want & ~held) ? -E_NOACCESS : 0;
  }
  if (is_pt(pi) || pi->type == PG_UAREA) {
    if (pi->owner != owner)
      return -E_NOACCESS;
    return want == PTE_R ? 0 : -E_PTWRITABLE;
  }
  return -E_NOACCESS;  // kernel or free
  // END LAB bindings
}

// Check that the caller (NULL: the kernel itself) may write into the
// page-table page pt_ppn; set *owner to the environment it belongs to.
// Returns 0 or -E_NOTPT.
static inline long check_table(struct env *caller, uint64 pt_ppn, struct env **owner)
{
  // LAB bindings: a page-table page of RAM, of an environment the caller controls
  // HANDOUT: *owner = env_of(ppn2page(pt_ppn)->owner);
  // HANDOUT: return 0;
  if (!ppn_valid(pt_ppn) || !is_pt(ppn2page(pt_ppn)))
    return -E_NOTPT;
  struct env *o = env_of(ppn2page(pt_ppn)->owner);
  if (o == NULL || (caller != NULL && !env_controls(caller, o)))
    return -E_NOTPT;
  *owner = o;
  return 0;
  // END LAB bindings
}

// Is pte a valid leaf?
static inline int is_leaf(uint64 pte)
{
  return (pte & PTE_V) && PTE_IS_LEAF(pte);
}

// A table's link from the PTE at pte_pa goes: it is no longer linked
// anywhere, nor up to a root.
static __attribute__((noinline)) void unlink_table(uint64 table_pa)
{
  *link_pte_of(table_pa) = 0;
  set_table_va(table_pa, 0);
}

// The table at table_pa is linked from the PTE at pte_pa, entry `index`
// of the level-`level` table at pt_pa.
static __attribute__((noinline)) void link_table(uint64 table_pa, uint64 pt_pa, int level,
                                                 uint64 index, uint64 pte_pa)
{
  *link_pte_of(table_pa) = pte_pa;
  set_table_va(table_pa, child_table_va(pt_pa, level, index));
}

// The bookkeeping of a write that changes what the entry at pte_pa (entry
// `index` of the level-`level` table at pt_pa) maps, from old to pte: the
// reverse map, and the links and addresses of tables. A leaf's is a few
// stores, done in line; a table's is out of line (it may walk a table).
static inline __attribute__((always_inline)) void relink(uint64 pt_pa, int level, uint64 index,
                                                         uint64 pte_pa, uint64 old, uint64 pte)
{
  // The slot's reverse-map links serve one page at a time: unlink the old
  // page before linking the new one.
  if (is_leaf(old))
    rmap_remove(PTE_PA(old), pte_pa);
  else if (old & PTE_V)
    unlink_table(PTE_PA(old));
  if (is_leaf(pte))
    rmap_add(PTE_PA(pte), pte_pa);
  else if (pte & PTE_V)
    link_table(PTE_PA(pte), pt_pa, level, index, pte_pa);
}

// Write pte into entry `index` of the level-`level` table at pt_pa, which
// belongs to owner (already checked). Returns 0 or a negative error; on error
// nothing changes. With batch set the TLB is left for the caller to flush.
static inline __attribute__((always_inline)) long
write_entry(struct env *owner, uint64 pt_pa, int level, uint64 index, uint64 pte, int batch)
{
  if (index >= NPTENTRIES || (level == 2 && index >= NPTENTRIES / 2))
    return -E_BADINDEX;
  uint64 pte_pa = pt_pa + index * sizeof(uint64);
  long err = check_pte(pte, level, owner->pub->id, pte_pa);
  if (err < 0)
    return err;

  uint64 *slot = (uint64 *)KADDR(pte_pa);
  uint64 old = *slot;
  // Same page, new rights or bits: the reverse map already has it.
  int same_page = is_leaf(pte) && is_leaf(old) && PTE_PPN(old) == PTE_PPN(pte);
  if (!same_page)
    relink(pt_pa, level, index, pte_pa, old, pte);
  *slot = pte;
  page_priv_of(pt_pa)->nvalid += (pte & PTE_V) - (old & PTE_V);
  if ((old & PTE_V) && !batch) {
    flush_entry(pt_pa, level, index, is_leaf(old), owner);
    tlb_note_siblings_of(owner);
  }
  return 0;
}

// The common write, done with the fewest checks that are enough for it:
// new bits for the page a leaf already maps, in a level-0 table of the
// caller's own, the page the caller's. It passes every rule of the general
// path (check_table, check_pte) and needs no reverse-map change. The
// globals it reads are copied into a struct fast_write once per call (a
// store through a PTE pointer would otherwise make the compiler reload
// them), with the last table found to be the caller's.
struct fast_write {
  uint64 base, npages;
  struct page_info *pages;
  uint32 me;     // the caller's id
  uint64 table;  // a level-0 table of the caller's (NO_TABLE: none found yet)
};
#define NO_TABLE (~0UL)  // no page number is this (0 is a page number like any other)

// Start a fast_write for caller.
static inline struct fast_write fast_start(struct env *caller)
{
  // (An owner of siblings takes the general paths, which shoot down their TLBs too.)
  uint32 me = caller->nsiblings == 0 ? caller->pub->id : 0;
  return (struct fast_write){base_ppn, npages, pages, me, NO_TABLE};
}

// Write pte into entry `index` of table pt_ppn if that is the common write
// (see struct fast_write), leaving the TLB to the caller. Returns 0 when
// done, or 1 if the write is not of that kind (or breaks a rule: the
// general path then names the error); nothing changes then.
static inline __attribute__((always_inline)) long rewrite_leaf(struct fast_write *f, uint64 pt_ppn,
                                                               uint64 index, uint64 pte)
{
  // LAB bindings: the common write alone, in a few instructions; 1 for anything else
  // HANDOUT: return 1;
  if (pt_ppn != f->table) {
    if (pt_ppn - f->base >= f->npages)
      return 1;
    struct page_info *table = &f->pages[pt_ppn - f->base];
    if (table->type != PG_PT0 || table->owner != f->me)
      return 1;
    f->table = pt_ppn;
  }
  if (index >= NPTENTRIES)
    return 1;
  uint64 *slot = (uint64 *)KADDR((pt_ppn << PGSHIFT) + index * sizeof(uint64));
  uint64 old = *slot;
  // A valid entry of a level-0 table is a leaf, and it passed check_pte
  // when it was written (and is broken if its page or grant goes since).
  // The new entry: no reserved bit (so the PPN comparison covers them),
  // the same page, a user leaf, R if W.
  if (!(old & PTE_V) || ((old ^ pte) >> 10) != 0 ||
      (pte & (PTE_V | PTE_U | PTE_G)) != (PTE_V | PTE_U) || !(pte & PTE_RWX) ||
      (pte & (PTE_R | PTE_W)) == PTE_W)
    return 1;
  if (pte & ~old & PTE_RWX) {  // more rights than it had: only for a page of the caller's
    struct page_info *pi = &f->pages[PTE_PPN(pte) - f->base];
    if (pi->type != PG_USER || pi->owner != f->me)
      return 1;
  }
  *slot = pte;
  return 0;
  // END LAB bindings
}

// The other common write, a new mapping: pte, a valid user leaf (R if W,
// no reserved bits, G clear) of a user page the caller owns, into an
// invalid entry of a level-0 table of the caller's own (f->table, found by
// rewrite_leaf). It passes every rule of the general path; the reverse map
// records it, and no TLB entry can hold the invalid one. Returns 0 when
// done, or 1 if the write is not of that kind (nothing changes then).
static inline __attribute__((always_inline)) long map_new_leaf(struct fast_write *f, uint64 pt_ppn,
                                                               uint64 index, uint64 pte)
{
  if (pt_ppn != f->table || index >= NPTENTRIES)
    return 1;
  uint64 pte_pa = (pt_ppn << PGSHIFT) + index * sizeof(uint64);
  uint64 *slot = (uint64 *)KADDR(pte_pa);
  if ((*slot & PTE_V) || (pte & (PTE_V | PTE_U | PTE_G)) != (PTE_V | PTE_U) || !(pte & PTE_RWX) ||
      (pte & (PTE_R | PTE_W)) == PTE_W || (pte & PTE_RESERVED_BITS))
    return 1;
  uint64 ppn = PTE_PPN(pte);
  struct page_info *pi = &f->pages[ppn - f->base];
  if (ppn - f->base >= f->npages || pi->type != PG_USER || pi->owner != f->me)
    return 1;
  rmap_add(ppn << PGSHIFT, pte_pa);
  *slot = pte;
  page_priv_of(pt_ppn << PGSHIFT)->nvalid++;
  return 0;
}

// pte_write's general case (see below).
static __attribute__((noinline)) long pte_write_any(struct env *caller, uint64 pt_ppn, uint64 index,
                                                    uint64 pte)
{
  struct env *owner;
  long err = check_table(caller, pt_ppn, &owner);
  if (err < 0)
    return err;
  return write_entry(owner, pt_ppn << PGSHIFT, pt_level(ppn2page(pt_ppn)), index, pte, 0);
}

// Write pte into entry `index` of the page-table page pt_ppn on behalf of
// `caller` (NULL: the kernel itself, for the first environment). Returns 0
// or a negative error; on error nothing changes.
long pte_write(struct env *caller, uint64 pt_ppn, uint64 index, uint64 pte)
{
  if (caller != NULL) {
    struct fast_write f = fast_start(caller);
    if (rewrite_leaf(&f, pt_ppn, index, pte) == 0) {
      flush_entry(pt_ppn << PGSHIFT, 0, index, 1, caller);
      return 0;
    }
    if (map_new_leaf(&f, pt_ppn, index, pte) == 0)
      return 0;
  }
  return pte_write_any(caller, pt_ppn, index, pte);
}

// The table a batch wrote into last by the general path, checked.
struct batch_table {
  uint64 ppn;  // NO_TABLE: none yet
  struct env *owner;
  int level;
};

// One write of a batch by the general path (out of line, so that the
// batch's loop over common writes stays small). Returns 0 or an error.
static __attribute__((noinline)) long batch_write(struct env *caller, struct batch_table *t,
                                                  uint64 pt_ppn, uint64 index, uint64 pte)
{
  if (pt_ppn != t->ppn) {
    long err = check_table(caller, pt_ppn, &t->owner);
    if (err < 0)
      return err;
    t->ppn = pt_ppn;
    t->level = pt_level(ppn2page(pt_ppn));
  }
  tlb_note_space(t->owner);  // (pte_write_many fences this hart at its end)
  return write_entry(t->owner, pt_ppn << PGSHIFT, t->level, index, pte, 1);
}

// Apply n writes for caller from w (kernel memory, or the caller's own
// memory read in place, which another of its threads or harts may write
// meanwhile: each entry is read once, through a volatile pointer), stopping
// at the first that fails.
// The common writes take rewrite_leaf; a run of writes into the same table
// checks the table once. Flushes the TLB once at the end. Returns 0 or the
// first error.
long pte_write_many(struct env *caller, const struct pte_write *w, uint64 n)
{
  // LAB bindings: the batch: common writes fast, a run in one table checked once, one flush
  // HANDOUT: for (uint64 i = 0; i < n; i++) {
  // HANDOUT:   long err = pte_write(caller, w[i].pt_ppn, w[i].index, w[i].pte);
  // HANDOUT:   if (err < 0)
  // HANDOUT:     return err;
  // HANDOUT: }
  // HANDOUT: return 0;
  const volatile struct pte_write *once = w;
  struct batch_table t = {NO_TABLE, NULL, 0};
  struct fast_write f = fast_start(caller);
  long err = 0;
  for (uint64 i = 0; i < n && err == 0; i++) {
    uint64 pt_ppn = once[i].pt_ppn, index = once[i].index, pte = once[i].pte;
    if (rewrite_leaf(&f, pt_ppn, index, pte) != 0)
      err = batch_write(caller, &t, pt_ppn, index, pte);
  }
  sfence_vma_all();
  return err;
  // END LAB bindings
}

// Clear the leaf PTE at pte_pa (found through the reverse map) and flush it.
void pte_unmap(uint64 pte_pa)
{
  uint64 *slot = (uint64 *)KADDR(pte_pa);
  rmap_remove(PTE_PA(*slot), pte_pa);
  *slot = 0;
  page_priv_of(pte_pa)->nvalid--;
  struct env *owner = env_of(ppn2page(pte_pa >> PGSHIFT)->owner);
  if (owner != NULL) {
    flush_entry(PGROUNDDOWN(pte_pa), 0, (pte_pa & (PGSIZE - 1)) / sizeof(uint64), 1, owner);
    tlb_note_siblings_of(owner);
  }
}

static uint32 unmap_owner;  // for unmap_if_owned

static void unmap_if_owned(uint64 pte_pa)
{
  if (ppn2page(pte_pa >> PGSHIFT)->owner == unmap_owner)
    pte_unmap(pte_pa);
}

// Break every mapping of the page at pa in envid's page tables.
void unmap_in_env(uint64 pa, uint32 envid)
{
  unmap_owner = envid;
  rmap_each(pa, unmap_if_owned);
}

// Clear the valid entries of the page-table page at pt_pa, dropping the
// reverse-map records of its leaves and the links of its subtables. Used
// when its environment is destroyed, before the page is freed (and zeroed
// when next allocated): the scan ends at the last valid entry (nvalid
// counts them down) and skips empty runs (eight_empty).
void pt_clear(uint64 pt_pa)
{
  struct page_priv *pp = page_priv_of(pt_pa);
  uint64 *t = KADDR(pt_pa);
  int n = ppn2page(pt_pa >> PGSHIFT)->type == PG_PT2 ? NPTENTRIES / 2 : NPTENTRIES;
  for (int i = 0; i < n && pp->nvalid > 0; i += 8) {
    if (eight_empty(&t[i]))
      continue;
    for (int k = i; k < i + 8; k++) {
      if ((t[k] & PTE_V) && PTE_IS_LEAF(t[k]))
        rmap_remove(PTE_PA(t[k]), pt_pa + k * sizeof(uint64));
      else if (t[k] & PTE_V)
        *link_pte_of(PTE_PA(t[k])) = 0, *table_va_of(PTE_PA(t[k])) = 0;
      pp->nvalid -= t[k] & PTE_V;
      t[k] = 0;
    }
  }
}

// Is the page-table page at pt_pa free of entries and links (so that it
// may be freed)?
int pt_empty(uint64 pt_pa)
{
  struct page_info *pi = ppn2page(pt_pa >> PGSHIFT);
  uint64 *t = KADDR(pt_pa);
  int n = pi->type == PG_PT2 ? NPTENTRIES / 2 : NPTENTRIES;
  for (int i = 0; i < n; i++)
    if (t[i] & PTE_V)
      return 0;
  return *link_pte_of(pt_pa) == 0;
}

// ---------------------------------------------------------------- invariants

// Check one valid entry of a level-`level` table owned by env e. Returns NULL
// or a description of the violation.
static const char *check_entry(struct env *e, uint64 pte, int level, uint64 pte_pa)
{
  uint32 id = e->pub->id;
  if (!ppn_valid(PTE_PPN(pte)))
    return "entry points outside RAM";
  struct page_info *pi = ppn2page(PTE_PPN(pte));
  if (!PTE_IS_LEAF(pte)) {
    if (level == 0 || pi->type != PG_PT0 + level - 1 || pi->owner != id)
      return "non-leaf does not point to its own next-level table";
    if (*link_pte_of(PTE_PA(pte)) != pte_pa)
      return "table's link does not match the entry pointing to it";
    return NULL;
  }
  if (level != 0)
    return "superpage leaf";
  if (!(pte & PTE_U) || (pte & PTE_G) || (pte & PTE_RESERVED_BITS) ||
      ((pte & PTE_W) && !(pte & PTE_R)))
    return "leaf with bad bits";
  uint64 want = pte & PTE_RWX;
  if (pi->type == PG_USER) {
    uint64 held = pi->owner == id ? PTE_RWX : grant_rights(PTE_PA(pte), id);
    if (want & ~held)
      return "leaf maps a user page with more rights than held";
  } else if (is_pt(pi) || pi->type == PG_UAREA) {
    if (pi->owner != id || want != PTE_R)
      return "page-table or u-area page mapped writable or by a stranger";
  } else {
    return "leaf maps a kernel or free page";
  }
  return NULL;
}

// Check the reverse-map list of the page at pa: exactly its mapping count
// of nodes (so a cycle fails), each a valid leaf of a level-0 table that
// maps pa, with back links that match. Linear in the list's length. Since
// kcheck also checks that the counts add up to the leaves in the tables,
// every leaf is then on its page's list, without searching any list.
static const char *check_rmap(uint64 pa)
{
  uint32 n = 0, prev = 0, count = ppn2page(pa >> PGSHIFT)->mapcount;
  for (uint32 r = page_priv_of(pa)->rmap; r != 0; prev = r, r = node_links(r)->next) {
    if (++n > count)
      return "reverse map longer than the mapping count";
    if ((r - 1) / NPTENTRIES >= npages || pages[(r - 1) / NPTENTRIES].type != PG_PT0)
      return "reverse-map node is not a slot of a level-0 table";
    uint64 pte = *(uint64 *)KADDR(node_pte(r));
    if (!is_leaf(pte) || PTE_PA(pte) != pa)
      return "reverse-map node's entry does not map its page";
    if (node_links(r)->prev != prev)
      return "reverse-map back link broken";
  }
  return n == count ? NULL : "reverse map shorter than the mapping count";
}

// Walk every environment's page tables and the page table of RAM, checking
// the invariants the kernel promises. Prints one line: "kcheck: OK ..." or
// the first violation. Returns 0 or -E_INVARIANT.
long kcheck(void)
{
  uint64 leaves = 0, *kr = KADDR(kernel_root());
  const char *why = NULL;
  uint64 where = 0;

  for (int i = 0; i < NENV && why == NULL; i++) {
    struct env *e = &envs[i];
    if (e->pub->status == ENV_FREE)
      continue;
    uint64 *root = KADDR(e->root);
    for (int k = NPTENTRIES / 2; k < NPTENTRIES; k++)
      if (root[k] != kr[k]) {
        why = "root's kernel half differs from the kernel's";
        where = e->root;
      }
    for (uint64 pa = owner_first_page(e->pub->id); pa != 0 && why == NULL;
         pa = owner_next_page(pa)) {
      struct page_info *pi = ppn2page(pa >> PGSHIFT);
      if (!is_pt(pi))
        continue;
      uint64 *t = KADDR(pa);
      int n = pi->type == PG_PT2 ? NPTENTRIES / 2 : NPTENTRIES;
      uint32 nvalid = 0;
      for (int k = 0; k < n && why == NULL; k++) {
        if (!(t[k] & PTE_V))
          continue;
        nvalid++;
        leaves += PTE_IS_LEAF(t[k]);
        why = check_entry(e, t[k], pt_level(pi), pa + k * sizeof(uint64));
        where = pa + k * sizeof(uint64);
      }
      if (why == NULL && nvalid != page_priv_of(pa)->nvalid) {
        why = "table's count of valid entries is wrong";
        where = pa;
      }
    }
  }

  uint64 counted = 0;
  for (uint64 n = 0; n < sysinfo->npages && why == NULL; n++) {
    struct page_info *pi = &pages[n];
    uint64 pa = (sysinfo->base_ppn + n) << PGSHIFT;
    counted += pi->mapcount;
    where = pa;
    if ((why = check_rmap(pa)) != NULL)
      ;
    else if (pi->type == PG_FREE && (pi->mapcount || pi->owner || has_grants(pa)))
      why = "free page is mapped, owned or granted";
    else if (pi->type != PG_FREE && pi->type != PG_KERNEL && env_of(pi->owner) == NULL &&
             !(pi->type == PG_USER && pi->owner == 0))
      why = "page owned by an environment that does not exist";
  }
  for (int i = 0; i < SLICE_NAMES && why == NULL; i++)
    if (slice_owner[i] != 0 && env_of(slice_owner[i]) == NULL) {
      why = "time slice owned by an environment that does not exist";
      where = i;
    }
  if (why == NULL && counted != leaves) {
    why = "mapping counts do not add up to the leaves in the page tables";
    where = counted;
  }
  if (why == NULL)
    why = env_check(&where);
  if (why == NULL)
    why = grants_check(&where);
  if (why == NULL)
    why = disk_check(&where);
  if (why == NULL)
    why = net_check(&where);

  if (why != NULL) {
    printf("kcheck: FAIL: %s (at %p)\n", why, (void *)where);
    return -E_INVARIANT;
  }
  printf("kcheck: OK (%lu mappings, %lu pages free)\n", leaves, sysinfo->nfree);
  return 0;
}
