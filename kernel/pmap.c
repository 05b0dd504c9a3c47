// Physical memory: the page table of RAM (who owns each page and what it
// is), the free-page list, and the kernel's own Sv39 page table.
//
// The kernel page table maps devices and RAM at KERNBASE + physical address
// ("the direct map") with the least rights each range needs: kernel text
// R+X, read-only data R, everything else R+W. Its upper-half root entries
// (256..511) are copied into every environment's root table, so the kernel
// is present, supervisor-only and global, in every address space.

#include "defs.h"
#include "memlayout.h"
#include "riscv.h"
#include "abi.h"

extern char _start[], etext[], erodata[], end[];

struct page_info *pages;  // one per page of RAM
static uint64 npages;     // RAM pages
static uint64 base_ppn;   // physical page number of pages[0]
static uint64 free_list;  // physical address of the first free page, 0 if none
static uint64 nfree;
static uint64 kroot;  // physical address of the kernel's root table

static struct page_info *pa2page(uint64 pa)
{
  uint64 i = (pa >> PGSHIFT) - base_ppn;
  if ((pa >> PGSHIFT) < base_ppn || i >= npages)
    panic("pa2page: %p is not RAM", (void *)pa);
  return &pages[i];
}

// Take a free page, zero it, and record its owner and type.
// Returns its physical address, or 0 when memory is exhausted.
uint64 page_alloc(uint32 owner, int type)
{
  uint64 pa = free_list;
  if (pa == 0)
    return 0;
  free_list = *(uint64 *)KADDR(pa);
  nfree--;
  memset(KADDR(pa), 0, PGSIZE);
  struct page_info *pi = pa2page(pa);
  pi->owner = owner;
  pi->type = type;
  return pa;
}

// Return a page to the free list. The caller has removed every mapping.
void page_free(uint64 pa)
{
  struct page_info *pi = pa2page(pa);
  if (pi->type == PG_FREE || pi->type == PG_KERNEL || pi->mapcount != 0)
    panic("page_free: page %p has type %d and %d mappings", (void *)pa, pi->type, pi->mapcount);
  pi->owner = 0;
  pi->type = PG_FREE;
  *(uint64 *)KADDR(pa) = free_list;
  free_list = pa;
  nfree++;
}

// Number of free pages.
uint64 pages_free(void)
{
  return nfree;
}

// Physical address of the kernel's root page table.
uint64 kernel_root(void)
{
  return kroot;
}

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
    if (pa >= base_ppn << PGSHIFT && (pa >> PGSHIFT) - base_ppn < npages)
      pa2page(pa)->type = PG_KERNEL;
}

// Set up the physical page table and the free list from bootinfo, then build
// and switch to the kernel's own page table.
void pmap_init(void)
{
  uint64 ram_end = bootinfo.ram_base + bootinfo.ram_size;
  base_ppn = bootinfo.ram_base >> PGSHIFT;
  npages = bootinfo.ram_size >> PGSHIFT;

  // The page table itself goes right after the kernel image.
  pages = (struct page_info *)PGROUNDUP((uint64)end);
  uint64 pages_end = PGROUNDUP((uint64)(pages + npages));
  memset(pages, 0, pages_end - (uint64)pages);

  reserve(bootinfo.ram_base, PADDR(pages_end));  // firmware, kernel, page table
  reserve(bootinfo.fdt_pa, bootinfo.fdt_pa + bootinfo.fdt_size);
  for (uint64 i = npages; i-- > 0;)
    if (pages[i].type == PG_FREE) {
      uint64 pa = (base_ppn + i) << PGSHIFT;
      pages[i].type = PG_USER;  // so that page_free accepts it
      page_free(pa);
    }

  kroot = page_alloc(0, PG_KERNEL);
  kmap(KERNBASE, 0, RAMBASE, PTE_R | PTE_W);  // devices
  kmap((uint64)_start, PADDR(_start), etext - _start, PTE_R | PTE_X);
  kmap((uint64)etext, PADDR(etext), erodata - etext, PTE_R);
  kmap((uint64)erodata, PADDR(erodata), ram_end - PADDR(erodata), PTE_R | PTE_W);
  csr_write(satp, MAKE_SATP(kroot, 0));
  sfence_vma_all();
}
