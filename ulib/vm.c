// ExOS virtual memory: this program's own Sv39 page tables, written through
// the kernel's validated pte_write and read through read-only views.
//
// The kernel never walks page tables for a library OS, so ExOS keeps its own
// view of them: every page-table page it uses is also mapped read-only in a
// window at EXOS_UVPT (root entry 254, 1 GiB):
//   the level-0 table for region (i2, i1)  at UVPT + (i2 * 512 + i1) * 4 KiB
//   the level-1 table for region i2        at UVPT + 512 MiB + i2 * 4 KiB
//   the root                               at UVPT + 512 MiB + 256 * 4 KiB
// The window's own tables appear in the window too: its level-1 table (root
// entry 254) at VIEW1(254), the level-0 table holding all the level-1 views
// and the root (region (254, 256)) at VIEW0(254, 256), and the level-0 tables
// holding level-0 views of region i2 at VIEW0(254, i2). So a PTE is read in
// two loads without any system call, and the only writes are pte_write calls.
// The calls that write tables hold exos_critical, so threads (thread.c) and
// upcall handlers never see a table half made.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define WIN           254  // the root entry of the window
#define VIEW0(i2, i1) ((volatile unsigned long *)(EXOS_UVPT + (((i2)*512UL + (i1)) << 12)))
#define VIEW1(i2)     ((volatile unsigned long *)(EXOS_UVPT + (512UL << 20) + ((i2) << 12)))
#define VIEWROOT      ((volatile unsigned long *)(EXOS_UVPT + (512UL << 20) + (256UL << 12)))
#define META          256  // region (WIN, META) holds the level-1 views and the root's

// The page numbers of the key tables (a forked child sets them first thing).
static EXOS_STATE unsigned long root, win1, win_meta, win_self;

// Nonzero while ExOS handles an upcall (xentry.S counts them) or is inside
// code that an asynchronous upcall must not interrupt: the kernel makes no
// asynchronous upcall (revocation, prologue, epilogue) while it is set.
// (Here, at the bottom, because the table writes below hold it.)

// Pages the kernel took by force whose contents are lost: revoke.c counts
// them, and heap.c reports a touch of one.
volatile unsigned long exos_pages_lost;

static unsigned long leaf(unsigned long ppn, unsigned long bits)
{
  return PA2PTE(ppn << 12) | bits | PTE_U | PTE_V | PTE_A | PTE_D;
}

static unsigned long pt_link(unsigned long ppn)
{
  return PA2PTE(ppn << 12) | PTE_V;
}

// The kernel's exported record of physical page ppn (its type, owner and
// mapcount), read from the read-only table at UPAGES: no system call.
const struct page_info *vm_page_info(unsigned long ppn)
{
  const struct sysinfo *si = (const struct sysinfo *)USYSINFO;
  return &((const struct page_info *)UPAGES)[ppn - si->base_ppn];
}

// Allocate a page of the given type for this program, waiting briefly if
// the kernel is getting memory back from someone (-E_AGAIN).
long vm_page_alloc(int type)
{
  long p;
  for (int tries = 0; (p = sys_page_alloc(0, 0, type)) == -E_AGAIN && tries < 100; tries++)
    sys_yield(0);
  return p;
}

// The window's level-0 table holding the views of region i2's level-0
// tables, made if missing. Returns its page number or an error.
static long window_table(unsigned long i2)
{
  unsigned long e = VIEW1(WIN)[i2];
  if (e & PTE_V)
    return PTE_PPN(e);
  long t = vm_page_alloc(PG_PT0), err;
  if (t < 0)
    return t;
  if ((err = sys_pte_write(win1, i2, pt_link(t))) < 0 ||
      (err = sys_pte_write(win_self, i2, leaf(t, PTE_R))) < 0)
    return err;
  return t;
}

// Show the level-0 table ppn of region (i2, i1) in the window.
static long view_table0(unsigned long i2, unsigned long i1, unsigned long ppn)
{
  long w = window_table(i2);
  return w < 0 ? w : sys_pte_write(w, i1, leaf(ppn, PTE_R));
}

// Is any of the 8 entries from e on valid? (A walk passes 8 empty entries
// at a time: most of a table is empty.)
static int any_valid8(const volatile unsigned long *e)
{
  return ((e[0] | e[1] | e[2] | e[3] | e[4] | e[5] | e[6] | e[7]) & PTE_V) != 0;
}

// Page-table writes collected for one pte_write_batch call.
struct batch {
  unsigned long n;
  struct pte_write w[16];  // small: vm_init runs on a new program's first stack page
};

// Send the writes collected in b to the kernel. Returns 0 or an error.
static long batch_flush(struct batch *b)
{
  long err = b->n == 0 ? 0 : sys_pte_write_batch(b->w, b->n);
  b->n = 0;
  return err < 0 ? err : 0;
}

// Add the write of pte into entry index of table pt to b, sending b when
// full. Returns 0 or an error.
static long batch_add(struct batch *b, unsigned long pt, unsigned long index, unsigned long pte)
{
  b->w[b->n++] = (struct pte_write){pt, index, pte};
  return b->n == sizeof(b->w) / sizeof(b->w[0]) ? batch_flush(b) : 0;
}

// Show in the window every level-0 table of region i2 (whose level-1 table
// the window shows already), through b. Returns 0 or an error.
static long view_region(struct batch *b, unsigned long i2)
{
  long w = -1;
  for (unsigned long i1 = 0; i1 < 512; i1++) {
    if (i1 % 8 == 0 && !any_valid8(&VIEW1(i2)[i1])) {
      i1 += 7;
      continue;
    }
    unsigned long e1 = VIEW1(i2)[i1];
    if (!(e1 & PTE_V))
      continue;
    if (w < 0) {  // the region's first: the window's table for it
      if ((w = vm_page_alloc(PG_PT0)) < 0)
        return w;
      long err;
      if ((err = batch_add(b, win1, i2, pt_link(w))) < 0 ||
          (err = batch_add(b, win_self, i2, leaf(w, PTE_R))) < 0)
        return err;
    }
    long err = batch_add(b, w, i1, leaf(PTE_PPN(e1), PTE_R));
    if (err < 0)
      return err;
  }
  return 0;
}

// Build the window and discover the page tables this program's creator made.
// Returns 0 or an error. Must run before any other vm_ call.
long vm_init(void)
{
  unsigned int me = sys_getenvid();
  const struct env_info *info = &((const struct env_info *)UENVS)[me & 255];
  struct batch b;
  long err = 0;
  root = info->root_ppn;
  long t1 = vm_page_alloc(PG_PT1), t2 = vm_page_alloc(PG_PT0), t3 = vm_page_alloc(PG_PT0);
  if (t1 < 0 || t2 < 0 || t3 < 0)
    return -E_NOMEM;
  win1 = t1, win_meta = t2, win_self = t3;
  // Link the window's tables and show them, using only known page numbers.
  b.n = 0;
  batch_add(&b, root, WIN, pt_link(win1));
  batch_add(&b, win1, META, pt_link(win_meta));
  batch_add(&b, win1, WIN, pt_link(win_self));
  batch_add(&b, win_meta, 256, leaf(root, PTE_R));
  batch_add(&b, win_meta, WIN, leaf(win1, PTE_R));
  batch_add(&b, win_self, META, leaf(win_meta, PTE_R));
  batch_add(&b, win_self, WIN, leaf(win_self, PTE_R));
  if ((err = batch_flush(&b)) < 0)
    return err;
  // Show every level-1 table there, then (once they can be read) their level-0 tables.
  for (unsigned long i2 = 0; i2 < 256 && err == 0; i2++)
    if (i2 != WIN && (VIEWROOT[i2] & PTE_V))
      err = batch_add(&b, win_meta, i2, leaf(PTE_PPN(VIEWROOT[i2]), PTE_R));
  if (err < 0 || (err = batch_flush(&b)) < 0)
    return err;
  for (unsigned long i2 = 0; i2 < 256 && err == 0; i2++)
    if (i2 != WIN && (VIEWROOT[i2] & PTE_V))
      err = view_region(&b, i2);
  return err < 0 ? err : batch_flush(&b);
}

// The page numbers of the window's own tables, for exec: the window
// outlives the program that built it, and the next one adopts it.
void vm_window(unsigned long keys[3])
{
  keys[0] = win1, keys[1] = win_meta, keys[2] = win_self;
}

// Take over the window an exec'd-from program built (instead of vm_init).
void vm_adopt(const unsigned long keys[3])
{
  root = ((const struct env_info *)UENVS)[sys_getenvid() & 255].root_ppn;
  win1 = keys[0], win_meta = keys[1], win_self = keys[2];
}

// The PTE that maps va, or 0 if there is none.
unsigned long vm_pte(unsigned long va)
{
  unsigned long i2 = PX(2, va), i1 = PX(1, va);
  if (va >= UTOP || !(VIEWROOT[i2] & PTE_V) || !(VIEW1(i2)[i1] & PTE_V))
    return 0;
  return VIEW0(i2, i1)[PX(0, va)];
}

// The level-0 table covering va, made (linked and shown) if missing.
// Returns its page number or an error.
long vm_table(unsigned long va)
{
  unsigned long i2 = PX(2, va), i1 = PX(1, va);
  long err;
  if (va >= UTOP || i2 == WIN || i2 == PX(2, UAREA))
    return -E_INVAL;  // the window and the u-area's region are ExOS's own
  if (!(VIEWROOT[i2] & PTE_V)) {
    long t = vm_page_alloc(PG_PT1);
    if (t < 0)
      return t;
    if ((err = sys_pte_write(root, i2, pt_link(t))) < 0 ||
        (err = sys_pte_write(win_meta, i2, leaf(t, PTE_R))) < 0)
      return err;
  }
  unsigned long e1 = VIEW1(i2)[i1];
  if (e1 & PTE_V)
    return PTE_PPN(e1);
  long t = vm_page_alloc(PG_PT0);
  if (t < 0)
    return t;
  if ((err = sys_pte_write(PTE_PPN(VIEWROOT[i2]), i1, pt_link(t))) < 0 ||
      (err = view_table0(i2, i1, t)) < 0)
    return err;
  return t;
}

// Map page ppn at va with the PTE bits in `bits` (PTE_R/W/X and the RSW
// bits, which are ExOS's). Returns 0 or an error.
long vm_map(unsigned long va, unsigned long ppn, unsigned long bits)
{
  exos_critical_enter();  // threads share the tables (and this view of them)
  long t = vm_table(va);
  long err = t < 0 ? t : sys_pte_write(t, PX(0, va), leaf(ppn, bits));
  exos_critical_leave();
  return err;
}

// Map page ppn at va with exactly the bits given, PTE_A and PTE_D included:
// with them clear, the hardware sets them on the first access and the first
// store, which is how a replacement policy learns what is used and dirty.
long vm_map_ad(unsigned long va, unsigned long ppn, unsigned long bits)
{
  exos_critical_enter();
  long t = vm_table(va);
  long err = t < 0 ? t : sys_pte_write(t, PX(0, va), PA2PTE(ppn << 12) | bits | PTE_U | PTE_V);
  exos_critical_leave();
  return err;
}

// Remove the mapping at va (if any). Returns 0 or an error.
long vm_unmap(unsigned long va)
{
  unsigned long i2 = PX(2, va), i1 = PX(1, va);
  exos_critical_enter();
  long err = vm_pte(va) == 0 ? 0 : sys_pte_write(PTE_PPN(VIEW1(i2)[i1]), PX(0, va), 0);
  exos_critical_leave();
  return err;
}

// Change the bits of the mapping at va, keeping its page. Returns 0, an
// error, or -E_INVAL if nothing is mapped there.
long vm_protect(unsigned long va, unsigned long bits)
{
  unsigned long pte = vm_pte(va);
  if (!(pte & PTE_V))
    return -E_INVAL;
  return vm_map(va, PTE_PPN(pte), bits);
}

// Map a fresh zeroed page at va. Returns its page number or an error.
long vm_alloc(unsigned long va, unsigned long bits)
{
  long p = vm_page_alloc(PG_USER), err;
  if (p < 0)
    return p;
  if ((err = vm_map(va, p, bits)) < 0) {
    sys_page_free(p);
    return err;
  }
  return p;
}

// Call fn(va, pte, arg) for every valid leaf below the window (user
// regions 0..253), in address order, until fn returns nonzero; returns that
// value (0 if fn never stopped the walk).
long vm_for_each_leaf(long (*fn)(unsigned long va, unsigned long pte, void *arg), void *arg)
{
  for (unsigned long i2 = 0; i2 < WIN; i2++) {
    if (!(VIEWROOT[i2] & PTE_V))
      continue;
    for (unsigned long i1 = 0; i1 < 512; i1++) {
      if (i1 % 8 == 0 && !any_valid8(&VIEW1(i2)[i1])) {
        i1 += 7;
        continue;
      }
      if (!(VIEW1(i2)[i1] & PTE_V))
        continue;
      volatile unsigned long *t = VIEW0(i2, i1);
      for (unsigned long i0 = 0; i0 < 512; i0++) {
        if (i0 % 8 == 0 && !any_valid8(&t[i0])) {
          i0 += 7;
          continue;
        }
        unsigned long pte = t[i0];
        long r;
        if ((pte & PTE_V) && (r = fn((i2 << 30) | (i1 << 21) | (i0 << 12), pte, arg)) != 0)
          return r;
      }
    }
  }
  return 0;
}

// Change the bits of the npages mappings from va on, keeping their pages,
// with as few system calls as possible: the entries go to the kernel in
// batches (pte_write_batch) of up to 128. Every page must be mapped. Returns
// 0 or an error: -E_INVAL if a page is not mapped (nothing from its batch
// on is changed), or the kernel's.
long vm_protect_range(unsigned long va, unsigned long npages, unsigned long bits)
{
  struct pte_write w[128];
  unsigned long n = 0, i2 = ~0UL, i1 = ~0UL, table = 0;
  volatile unsigned long *view = NULL;
  for (unsigned long i = 0; i < npages; i++, va += PGSIZE) {
    if (va >= UTOP)
      return -E_INVAL;
    if (PX(2, va) != i2 || PX(1, va) != i1) {  // a new level-0 table: look it up once
      i2 = PX(2, va), i1 = PX(1, va);
      if (!(VIEWROOT[i2] & PTE_V) || !(VIEW1(i2)[i1] & PTE_V))
        return -E_INVAL;
      table = PTE_PPN(VIEW1(i2)[i1]);
      view = VIEW0(i2, i1);
    }
    unsigned long pte = view[PX(0, va)];
    if (!(pte & PTE_V))
      return -E_INVAL;
    w[n++] = (struct pte_write){table, PX(0, va), leaf(PTE_PPN(pte), bits)};
    if (n == sizeof(w) / sizeof(w[0]) || i + 1 == npages) {
      long err = sys_pte_write_batch(w, n);
      if (err < 0)
        return err;
      n = 0;
    }
  }
  return 0;
}
