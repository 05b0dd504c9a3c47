// Physical memory: the table of RAM pages (owner, type, mapping count),
// the free list, grants, the reverse map, and the kernel's own page table.
//
// Exposing names: every page is named by its physical page number (ppn) and
// the table of pages is exported read-only at UPAGES. Grants let an owner
// share a page with rights; the reverse map records every user PTE that maps
// a page, so freeing a page or withdrawing a grant can break each mapping.
// A user page whose owner died while its descendants held grants on it is
// owned by nobody (owner 0) and is freed with its last grant. Grant records
// are a pool of two per page of RAM, each environment charged for those it
// made, up to a quarter of the pool (-E_QUOTA past it).
//
// The kernel page table maps devices and RAM at KERNBASE + physical address
// ("the direct map") with the least rights each range needs: kernel text
// R+X, read-only data R, everything else R+W. Its upper-half root entries
// (256..511) are copied into every environment's root table, so the kernel
// is present, supervisor-only and global, in every address space. The
// exported tables are mapped a second time, user-readable, at USYSINFO,
// UENVS, USLICES and UPAGES.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

extern char _start[], etext[], erodata[], end[];

struct page_info *pages;  // one per page of RAM, exported
struct sysinfo *sysinfo;  // exported
uint64 npages;            // pages of RAM
uint64 base_ppn;          // ppn of pages[0]
static uint64 kroot;      // physical address of the kernel's root table

struct page_priv *priv;   // kernel-private facts about each page (defs.h)
static uint32 free_head;  // first free page (index); page 0 is firmware, never listed

// The pool of grant records, linked by index; index 0 is never used, so 0 is
// "none". A record is on two lists: its page's (next) and its holder's
// (hnext, hprev: the holder's grants_head), so a dying environment drops
// its grants in time proportional to their number.
struct grant_rec {
  uint32 envid;
  uint32 rights;  // GRANT_R | GRANT_W | GRANT_X
  uint32 next;
  uint32 maker;         // who created it, charged for it while both exist
  uint32 page;          // index of the page it is on
  uint32 hnext, hprev;  // neighbours on the holder's list
};
static struct grant_rec *grants;
static uint32 ngrants, free_grant;

static uint32 pa2index(uint64 pa)
{
  if (!ppn_valid(pa >> PGSHIFT))
    panic("pmap: %p is not RAM", (void *)pa);
  return (pa >> PGSHIFT) - base_ppn;
}

static struct page_info *pa2page(uint64 pa)
{
  return &pages[pa2index(pa)];
}

static struct page_priv *pa2priv(uint64 pa)
{
  return &priv[pa2index(pa)];
}

static uint64 index2pa(uint32 i)
{
  return (base_ppn + i) << PGSHIFT;
}

static void list_push(uint32 *head, uint32 i)
{
  priv[i].next = *head;
  priv[i].prev = 0;
  if (*head)
    priv[*head].prev = i;
  *head = i;
}

static void list_remove(uint32 *head, uint32 i)
{
  if (priv[i].prev)
    priv[priv[i].prev].next = priv[i].next;
  else
    *head = priv[i].next;
  if (priv[i].next)
    priv[priv[i].next].prev = priv[i].prev;
}

// The list of pages an owner holds (NULL for the kernel).
static uint32 *owner_list(uint32 owner)
{
  struct env *e = &envs[ENVX(owner)];
  return owner != 0 && e->pub->id == owner ? &e->pages_head : NULL;
}

// Fill the page at pa with zeros. Every allocation does this, so it stores
// 32 words a round: 2 instructions of loop for 32 stores, where a
// word-at-a-time memset spends 3 (a page fault's cost was mostly this).
// 512 stores is the floor without a block-zeroing instruction.
static void zero_page(uint64 pa)
{
  uint64 *p = KADDR(pa), *end = p + PGSIZE / sizeof(uint64);
  for (; p < end; p += 32) {
    p[0] = p[1] = p[2] = p[3] = p[4] = p[5] = p[6] = p[7] = 0;
    p[8] = p[9] = p[10] = p[11] = p[12] = p[13] = p[14] = p[15] = 0;
    p[16] = p[17] = p[18] = p[19] = p[20] = p[21] = p[22] = p[23] = 0;
    p[24] = p[25] = p[26] = p[27] = p[28] = p[29] = p[30] = p[31] = 0;
  }
}

// Take free page i off the free list, with the given owner and type, and
// zeroed unless zero is 0 (a reverse-map shadow: each link is written
// before it is read).
static uint64 take_free(uint32 i, uint32 owner, int type, int zero)
{
  list_remove(&free_head, i);
  sysinfo->nfree--;
  uint64 pa = index2pa(i);
  if (zero)
    zero_page(pa);
  pages[i] = (struct page_info){.owner = owner, .type = type};
  return pa;
}

// Put page i (owned by nobody now) on the free list.
static void give_free(uint32 i)
{
  pages[i].owner = 0;
  pages[i].type = PG_FREE;
  list_push(&free_head, i);
  sysinfo->nfree++;
}

// Take a free page: the one at pa if pa != 0 (it must be free), else any.
// Zero it and record its owner and type. A level-0 table also takes a
// kernel page for its reverse-map links. Returns its physical address, or 0
// if there is no free page (or pa is not free). O(1). A page freed by this
// hart may still be reachable through another hart's TLB until the
// shootdowns noted are done: do them first.
uint64 page_alloc_at(uint64 pa, uint32 owner, int type)
{
  if (smp_on)
    tlb_fence_remote();
  if (pa == 0 && free_head == 0)
    return 0;
  uint32 i = pa ? pa2index(pa) : free_head;
  if (pages[i].type != PG_FREE)
    return 0;
  uint32 shadow = 0;
  if (type == PG_PT0) {
    shadow = free_head != i ? free_head : priv[i].next;
    if (shadow == 0)
      return 0;
    take_free(shadow, 0, PG_KERNEL, 0);
  }
  pa = take_free(i, owner, type, 1);
  priv[i].shadow = shadow;
  priv[i].nvalid = 0;  // (zeroed: no valid entry)
  uint32 *list = owner_list(owner);
  if (list) {
    list_push(list, i);
    envs[ENVX(owner)].pub->npages++;
  }
  return pa;
}

// Take any free page (see page_alloc_at).
uint64 page_alloc(uint32 owner, int type)
{
  return page_alloc_at(0, owner, type);
}

// Return a page to the free list. Every mapping, link and grant must be gone.
void page_free(uint64 pa)
{
  uint32 i = pa2index(pa);
  struct page_info *pi = &pages[i];
  if (pi->type == PG_FREE || pi->mapcount != 0 || priv[i].rmap || priv[i].grants ||
      priv[i].link_pte)
    panic("page_free: page %p (type %d) still in use", (void *)pa, pi->type);
  uint32 *list = owner_list(pi->owner);
  if (list) {
    list_remove(list, i);
    envs[ENVX(pi->owner)].pub->npages--;
  }
  if (pi->type == PG_PT0) {
    give_free(priv[i].shadow);
    priv[i].shadow = 0;
  }
  priv[i].table_va = 0;  // a root's stays set until here
  give_free(i);
}

// The physical address of the first page on owner's list (0 if none): an
// environment being destroyed frees these until none is left.
uint64 owner_first_page(uint32 owner)
{
  uint32 *list = owner_list(owner);
  return list && *list ? index2pa(*list) : 0;
}

// Number of free pages.
uint64 pages_free(void)
{
  return sysinfo->nfree;
}

// Physical address of the kernel's root page table.
uint64 kernel_root(void)
{
  return kroot;
}

// The page after pa on its owner's list (0 at the end).
uint64 owner_next_page(uint64 pa)
{
  uint32 next = pa2priv(pa)->next;
  return next ? index2pa(next) : 0;
}

// The page at pa, a user page others hold grants on, outlives its owner,
// which is being destroyed: it belongs to nobody from now on, and goes
// when the last grant on it does (grant_set).
void page_disown(uint64 pa)
{
  uint32 i = pa2index(pa);
  list_remove(owner_list(pages[i].owner), i);
  envs[ENVX(pages[i].owner)].pub->npages--;
  pages[i].owner = 0;
}

// ---------------------------------------------------------------- grants

// The rights env holds on the page at pa through a grant (0 if none).
uint32 grant_rights(uint64 pa, uint32 envid)
{
  for (uint32 g = pa2priv(pa)->grants; g != 0; g = grants[g].next)
    if (grants[g].envid == envid)
      return grants[g].rights;
  return 0;
}

// The largest number of grant records one environment may have created
// and not yet seen go: a quarter of the pool (abi.h, "Pools").
static uint32 grant_share(void)
{
  return ngrants / 4;
}

// Set env's grant on the page at pa to rights (0 removes it). A new record
// is charged to maker (the caller of page_grant). Returns 0, or -E_QUOTA
// when maker has used up its share of the pool. A page owned by nobody
// (page_disown) that loses its last grant is freed: the caller has broken
// the grantee's mappings of it.
int grant_set(uint64 pa, uint32 envid, uint32 rights, struct env *maker)
{
  uint32 *link = &pa2priv(pa)->grants;
  for (; *link != 0; link = &grants[*link].next)
    if (grants[*link].envid == envid)
      break;
  if (*link != 0 && rights != 0) {
    grants[*link].rights = rights;
  } else if (*link != 0) {
    uint32 g = *link;
    struct env *charged = env_of(grants[g].maker), *holder = env_of(envid);
    *link = grants[g].next;
    if (grants[g].hprev)
      grants[grants[g].hprev].hnext = grants[g].hnext;
    else
      holder->grants_head = grants[g].hnext;
    if (grants[g].hnext)
      grants[grants[g].hnext].hprev = grants[g].hprev;
    grants[g].next = free_grant;
    free_grant = g;
    holder->ngrants--;
    if (charged != NULL)
      charged->grants_made--;
    if (pa2page(pa)->owner == 0 && pa2priv(pa)->grants == 0)
      page_free(pa);
  } else if (rights != 0) {
    uint32 g = free_grant;
    if (maker->grants_made >= grant_share())
      return -E_QUOTA;
    if (g == 0)
      return -E_NOMEM;
    struct env *holder = env_of(envid);
    free_grant = grants[g].next;
    grants[g] = (struct grant_rec){envid, rights, pa2priv(pa)->grants, maker->pub->id,
                                   pa2index(pa), holder->grants_head, 0};
    if (holder->grants_head)
      grants[holder->grants_head].hprev = g;
    holder->grants_head = g;
    pa2priv(pa)->grants = g;
    holder->ngrants++;
    maker->grants_made++;
  }
  return 0;
}

// Is env a descendant of ancestor (its child, grandchild, ...)?
static int descends_from(struct env *env, uint32 ancestor)
{
  for (int depth = 0; env != NULL && depth < NENV; depth++) {
    if (env->pub->parent_id == ancestor)
      return 1;
    env = env_of(env->pub->parent_id);
  }
  return 0;
}

// envid's grant on the page at pa was lowered to rights: lower the grants
// its descendants hold on the page (which it may have passed on) to rights
// too, breaking their mappings where rights went away.
void grants_lower_below(uint64 pa, uint32 envid, uint32 rights)
{
  for (uint32 g = pa2priv(pa)->grants, next; g != 0; g = next) {
    next = grants[g].next;
    struct grant_rec r = grants[g];
    if ((r.rights & ~rights) && descends_from(env_of(r.envid), envid)) {
      unmap_in_env(pa, r.envid);
      grant_set(pa, r.envid, r.rights & rights, NULL);
    }
  }
}

// The owner of the page at pa, envid, is being destroyed: withdraw the
// grants on it that environments other than its descendants hold (a server
// it lent the page to), breaking their mappings. What its descendants hold
// they keep (see page_disown).
void grants_keep_descendants(uint64 pa, uint32 envid)
{
  for (uint32 g = pa2priv(pa)->grants, next; g != 0; g = next) {
    next = grants[g].next;
    uint32 holder = grants[g].envid;
    if (!descends_from(env_of(holder), envid)) {
      unmap_in_env(pa, holder);
      grant_set(pa, holder, 0, NULL);
    }
  }
}

// Does anyone hold a grant on the page at pa?
int has_grants(uint64 pa)
{
  return pa2priv(pa)->grants != 0;
}

// Remove every grant on the page at pa, which has an owner.
void grants_clear(uint64 pa)
{
  while (pa2priv(pa)->grants != 0)
    grant_set(pa, grants[pa2priv(pa)->grants].envid, 0, NULL);
}

// Remove every grant e holds, on any page (e is being destroyed, its
// tables already empty): one step per grant, along e's list.
void grants_drop_env(struct env *e)
{
  while (e->grants_head != 0)
    grant_set(index2pa(grants[e->grants_head].page), e->pub->id, 0, NULL);
}

// For kcheck: every grant is held by a live environment on a user page; a
// page owned by nobody is held by some grant; each environment's counts of
// grants held and made match the records, and its list of grants held has
// them all. Linear in pages and records.
// Returns NULL or the violation, with the page in *where.
const char *grants_check(uint64 *where)
{
  uint32 held[NENV] = {0}, made[NENV] = {0};
  for (uint32 i = 0; i < npages; i++) {
    *where = index2pa(i);
    if (pages[i].type == PG_USER && pages[i].owner == 0 && priv[i].grants == 0)
      return "user page owned by nobody and held by no grant (lost)";
    uint32 n = 0;
    for (uint32 g = priv[i].grants; g != 0; g = grants[g].next) {
      if (++n > NENV)
        return "grant list longer than the environment table (a cycle)";
      if (pages[i].type != PG_USER || env_of(grants[g].envid) == NULL)
        return "grant on a page that is not a user page, or held by nobody";
      if (grants[g].page != i)
        return "grant record names another page than the one it is on";
      held[ENVX(grants[g].envid)]++;
      if (env_of(grants[g].maker) != NULL)
        made[ENVX(grants[g].maker)]++;
    }
  }
  for (int i = 0; i < NENV; i++) {
    *where = i;
    if (envs[i].pub->status != ENV_FREE &&
        (envs[i].ngrants != held[i] || envs[i].grants_made != made[i]))
      return "environment's count of grants held or made is wrong";
    uint32 n = 0, prev = 0;
    for (uint32 g = envs[i].grants_head; g != 0 && n <= held[i]; prev = g, g = grants[g].hnext, n++)
      if (grants[g].envid != envs[i].pub->id || grants[g].hprev != prev)
        return "environment's list of grants held is broken";
    if (envs[i].pub->status != ENV_FREE && n != held[i])
      return "environment's list of grants held misses some or loops";
  }
  return NULL;
}

// ---------------------------------------------------------------- boot

// Map [va, va+size) to [pa, pa+size) in the kernel table with permissions
// perm, using the largest pages that alignment allows. Panics when out of
// memory: the kernel cannot run without its own table.
static void kmap(uint64 va, uint64 pa, uint64 size, uint64 perm)
{
  while (size > 0) {
    int level = 2;
    while (level > 0 &&
           (((va | pa) & ((PGSIZE << (9 * level)) - 1)) != 0 || size < (PGSIZE << (9 * level))))
      level--;
    uint64 *table = KADDR(kroot);
    for (int l = 2; l > level; l--) {
      uint64 *pte = &table[PX(l, va)];
      if (!(*pte & PTE_V)) {
        uint64 t = page_alloc(0, PG_KERNEL);
        if (t == 0)
          panic("kmap: out of memory");
        *pte = PA2PTE(t) | PTE_V;
      }
      table = KADDR(PTE_PA(*pte));
    }
    table[PX(level, va)] = PA2PTE(pa) | perm | PTE_V | PTE_A | PTE_D | PTE_G;
    uint64 step = PGSIZE << (9 * level);
    va += step;
    pa += step;
    size -= step;
  }
}

// Mark [lo, hi) as the kernel's and keep it off the free list.
static void reserve(uint64 lo, uint64 hi)
{
  for (uint64 pa = PGROUNDDOWN(lo); pa < hi; pa += PGSIZE)
    if (ppn_valid(pa >> PGSHIFT))
      pa2page(pa)->type = PG_KERNEL;
}

// Carve n bytes of zeroed, page-aligned memory from *next (boot only).
static void *boot_carve(uint64 *next, uint64 n)
{
  void *p = (void *)*next;
  *next = PGROUNDUP(*next + n);
  memset(p, 0, *next - (uint64)p);
  return p;
}

// Set up the physical page table, the record pools and the free list from
// bootinfo, then build and switch to the kernel's own page table.
void pmap_init(void)
{
  uint64 ram_end = bootinfo.ram_base + bootinfo.ram_size;
  base_ppn = bootinfo.ram_base >> PGSHIFT;
  npages = bootinfo.ram_size >> PGSHIFT;
  ngrants = 2 * npages;  // each environment may use a quarter (grant_share)

  // The tables go right after the kernel image.
  uint64 next = PGROUNDUP((uint64)end);
  sysinfo = boot_carve(&next, sizeof(struct sysinfo));
  pages = boot_carve(&next, npages * sizeof(struct page_info));
  priv = boot_carve(&next, npages * sizeof(struct page_priv));
  grants = boot_carve(&next, ngrants * sizeof(struct grant_rec));
  env_table = boot_carve(&next, NENV * sizeof(struct env_info));
  slice_owner = boot_carve(&next, SLICE_NAMES * sizeof(uint32));
  for (uint32 i = 1; i < ngrants; i++)
    grants[i].next = i + 1 < ngrants ? i + 1 : 0;
  free_grant = 1;

  sysinfo->base_ppn = base_ppn;
  sysinfo->npages = npages;
  sysinfo->nenv = NENV;
  sysinfo->timebase_hz = bootinfo.timebase_hz;

  reserve(bootinfo.ram_base, PADDR(next));  // firmware, kernel, tables
  reserve(bootinfo.fdt_pa, bootinfo.fdt_pa + bootinfo.fdt_size);
  if (pages[0].type != PG_KERNEL)
    panic("pmap_init: the first page of RAM should be the firmware's");
  for (uint32 i = npages; i-- > 0;)
    if (pages[i].type == PG_FREE)
      give_free(i);

  kroot = page_alloc(0, PG_KERNEL);
  kmap(KERNBASE, 0, RAMBASE, PTE_R | PTE_W);  // devices
  kmap((uint64)_start, PADDR(_start), etext - _start, PTE_R | PTE_X);
  kmap((uint64)etext, PADDR(etext), erodata - etext, PTE_R);
  kmap((uint64)erodata, PADDR(erodata), ram_end - PADDR(erodata), PTE_R | PTE_W);
  kmap(USYSINFO, PADDR(sysinfo), PGSIZE, PTE_R | PTE_U);
  kmap(UENVS, PADDR(env_table), PGROUNDUP(NENV * sizeof(struct env_info)), PTE_R | PTE_U);
  kmap(USLICES, PADDR(slice_owner), PGSIZE, PTE_R | PTE_U);
  kmap(UPAGES, PADDR(pages), PGROUNDUP(npages * sizeof(struct page_info)), PTE_R | PTE_U);
  csr_write(satp, MAKE_SATP(kroot, 0));
  sfence_vma_all();
}
