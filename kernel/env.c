// Environments: creation, the bootstrap loader for the first one,
// destruction, and choosing which one runs.

#include "defs.h"
#include "abi.h"
#include "elf.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"

struct env envs[NENV];
struct env *curenv;
static uint32 next_generation = 1;
extern struct page_info *pages;

// Allocate a free environment with a fresh id and an empty address space
// (a root table holding only the kernel's upper half). Returns NULL if the
// table is full or memory is exhausted.
static struct env *env_alloc(uint32 parent_id, const char *name)
{
  struct env *e = NULL;
  for (int i = 0; i < NENV; i++)
    if (envs[i].status == ENV_FREE) {
      e = &envs[i];
      break;
    }
  if (e == NULL)
    return NULL;

  uint32 index = e - envs;
  uint32 id = (next_generation++ << 8) | index;
  uint64 root = page_alloc(id, PG_PT2);
  if (root == 0)
    return NULL;
  uint64 *kr = KADDR(kernel_root()), *r = KADDR(root);
  for (int i = NPTENTRIES / 2; i < NPTENTRIES; i++)
    r[i] = kr[i];

  memset(e, 0, sizeof(*e));
  e->id = id;
  e->parent_id = parent_id;
  e->status = ENV_NOT_RUNNABLE;
  e->asid = index + 1;
  e->root = root;
  strlcpy(e->name, name, sizeof(e->name));
  return e;
}

// Find the level-0 PTE for va in the table rooted at root. With alloc set,
// missing tables are allocated (owned by `owner`); otherwise returns NULL if
// there is none. Used only by the bootstrap loader and the user-copy helpers.
static uint64 *walk(uint64 root, uint64 va, uint32 owner, int alloc)
{
  uint64 *table = KADDR(root);
  for (int level = 2; level > 0; level--) {
    uint64 *pte = &table[PX(level, va)];
    if (!(*pte & PTE_V)) {
      if (!alloc)
        return NULL;
      uint64 t = page_alloc(owner, level == 2 ? PG_PT1 : PG_PT0);
      if (t == 0)
        return NULL;
      *pte = PA2PTE(t) | PTE_V;
    } else if (PTE_IS_LEAF(*pte)) {
      return NULL;  // superpages are never made for user space
    }
    table = KADDR(PTE_PA(*pte));
  }
  return &table[PX(0, va)];
}

// Give environment e a fresh zeroed page mapped at va with permissions perm
// (PTE_R/W/X). Returns the page's physical address, or 0 if out of memory.
static uint64 bootstrap_map(struct env *e, uint64 va, uint64 perm)
{
  uint64 *pte = walk(e->root, va, e->id, 1);
  if (pte == NULL)
    return 0;
  if (*pte & PTE_V)
    return PTE_PA(*pte);  // two segments share this page
  uint64 pa = page_alloc(e->id, PG_USER);
  if (pa == 0)
    return 0;
  *pte = PA2PTE(pa) | perm | PTE_U | PTE_V | PTE_A | PTE_D;
  pages[(pa >> PGSHIFT) - (bootinfo.ram_base >> PGSHIFT)].mapcount++;
  return pa;
}

// Create the first environment from an ELF executable in the kernel image.
// It has no parent to build its address space, so the kernel loads it: each
// PT_LOAD segment at its address, and one stack page below INIT_STACKTOP.
// This is the only address space the kernel ever builds; every later one is
// built by a library OS through the page-table calls.
struct env *env_create_bootstrap(const char *name, const uint8 *binary, size_t size)
{
  const struct elfhdr *eh = (const struct elfhdr *)binary;
  if (size < sizeof(*eh) || eh->magic != ELF_MAGIC || eh->class != ELFCLASS64 ||
      eh->machine != EM_RISCV || eh->phoff + (uint64)eh->phnum * sizeof(struct proghdr) > size)
    panic("bootstrap: %s is not a RISC-V ELF-64 executable", name);

  struct env *e = env_alloc(0, name);
  if (e == NULL)
    panic("bootstrap: cannot allocate environment for %s", name);

  const struct proghdr *ph = (const struct proghdr *)(binary + eh->phoff);
  for (int i = 0; i < eh->phnum; i++, ph++) {
    if (ph->type != PT_LOAD)
      continue;
    if (ph->filesz > ph->memsz || ph->off + ph->filesz > size || ph->vaddr >= UTOP ||
        ph->memsz > UTOP - ph->vaddr)
      panic("bootstrap: %s has a bad segment", name);
    uint64 perm = (ph->flags & PF_R ? PTE_R : 0) | (ph->flags & PF_W ? PTE_W | PTE_R : 0) |
                  (ph->flags & PF_X ? PTE_X : 0);
    for (uint64 va = PGROUNDDOWN(ph->vaddr); va < ph->vaddr + ph->memsz; va += PGSIZE) {
      uint64 pa = bootstrap_map(e, va, perm);
      if (pa == 0)
        panic("bootstrap: out of memory loading %s", name);
      // Copy the part of the file that falls in this page.
      uint64 lo = va > ph->vaddr ? va : ph->vaddr;
      uint64 hi = va + PGSIZE < ph->vaddr + ph->filesz ? va + PGSIZE : ph->vaddr + ph->filesz;
      if (lo < hi)
        memmove((char *)KADDR(pa) + (lo - va), binary + ph->off + (lo - ph->vaddr), hi - lo);
    }
  }
  if (bootstrap_map(e, INIT_STACKTOP - PGSIZE, PTE_R | PTE_W) == 0)
    panic("bootstrap: out of memory for %s's stack", name);
  e->tf.pc = eh->entry;
  e->tf.sp = INIT_STACKTOP;
  e->status = ENV_RUNNABLE;
  return e;
}

// Drop the mappings in a level-`level` table and free the table pages,
// counting each leaf out of the page it maps.
static void free_tables(uint64 table_pa, int level)
{
  uint64 *t = KADDR(table_pa);
  int n = level == 2 ? NPTENTRIES / 2 : NPTENTRIES;  // the root's upper half is the kernel's
  for (int i = 0; i < n; i++) {
    if (!(t[i] & PTE_V))
      continue;
    if (PTE_IS_LEAF(t[i]))
      pages[(PTE_PA(t[i]) >> PGSHIFT) - (bootinfo.ram_base >> PGSHIFT)].mapcount--;
    else
      free_tables(PTE_PA(t[i]), level - 1);
    t[i] = 0;
  }
  page_free(table_pa);
}

// Destroy environment e: remove its mappings and free every page it owns.
// If it is running, the caller must schedule() afterwards.
void env_destroy(struct env *e, int status)
{
  (void)status;
  if (curenv == e) {
    csr_write(satp, MAKE_SATP(kernel_root(), 0));
    curenv = NULL;
  }
  free_tables(e->root, 2);
  uint64 base = bootinfo.ram_base >> PGSHIFT;
  for (uint64 i = 0; i < bootinfo.ram_size >> PGSHIFT; i++)
    if (pages[i].owner == e->id && pages[i].type != PG_FREE)
      page_free((base + i) << PGSHIFT);
  sfence_vma_all();
  e->status = ENV_FREE;
  e->id = 0;
}

// Switch to environment e's address space and return to it in user mode.
void env_run(struct env *e)
{
  if (curenv != e) {
    curenv = e;
    csr_write(satp, MAKE_SATP(e->root, e->asid));
  }
  trap_return(e);
}

// Run the next runnable environment after the current one, round-robin.
// With none runnable, wait for an interrupt; with none left at all, power off.
void schedule(void)
{
  for (;;) {
    int start = curenv ? ENVX(curenv->id) + 1 : 0, alive = 0;
    for (int i = 0; i < NENV; i++) {
      struct env *e = &envs[(start + i) % NENV];
      if (e->status == ENV_RUNNABLE)
        env_run(e);
      alive |= e->status != ENV_FREE;
    }
    if (!alive) {
      printf("rvexo: no environments left; powering off\n");
      poweroff(0);
    }
    asm volatile("wfi");  // wakes on an enabled interrupt even with SIE off
    uint64 pending = csr_read(sip) & csr_read(sie);
    if (pending & SIE_STIE)
      handle_interrupt(SCAUSE_INTR | IRQ_S_TIMER);
    if (pending & SIE_SEIE)
      handle_interrupt(SCAUSE_INTR | IRQ_S_EXT);
  }
}

// Copy len bytes from user address va in e's address space to dst, checking
// that every byte is mapped user-readable there. Returns 0 or -E_FAULT.
// The kernel reads through the direct map, so it never needs SUM.
int copy_from_user(struct env *e, void *dst, uint64 va, size_t len)
{
  while (len > 0) {
    if (va >= UTOP)
      return -E_FAULT;
    uint64 *pte = walk(e->root, va, 0, 0);
    if (pte == NULL || (*pte & (PTE_V | PTE_U | PTE_R)) != (PTE_V | PTE_U | PTE_R))
      return -E_FAULT;
    uint64 n = PGSIZE - (va & (PGSIZE - 1));
    if (n > len)
      n = len;
    memmove(dst, (char *)KADDR(PTE_PA(*pte)) + (va & (PGSIZE - 1)), n);
    dst = (char *)dst + n;
    va += n;
    len -= n;
  }
  return 0;
}
