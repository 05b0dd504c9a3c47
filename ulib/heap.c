// ExOS memory for programs: the heap (sbrk), the growing stack, and malloc.
//
// The heap starts at the end of the program and grows with sbrk; its pages
// are mapped only when first touched (a page fault maps a zeroed page). The
// stack's top 16 KiB are mapped at start-up, so that starting a program, the
// file server and the shell's commands take no page fault; below them the
// stack grows on demand too, down to EXOS_STACK_MAX below its top; the page
// below that is a guard, and touching it ends the program with a message.
// sbrk, malloc and free hold exos_critical, so threads (thread.c) may share
// the heap: no thread switch comes in the middle of one.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

extern char end[];
static unsigned long heap_start, heap_brk;
static exos_handler next_fault_handler[16];

#define STACK_LO     (EXOS_STACKTOP - EXOS_STACK_MAX)
#define HEAP_TRACKED 16384  // heap pages whose first touch is remembered (64 MiB)
#define STACK_START  4      // stack pages mapped at start-up

// Which pages were mapped once: if one is missing later, the kernel took it
// (revocation), and mapping a zero page would hide that. For the heap, a bit
// per page; the stack is mapped from its top down to stack_low.
static unsigned char heap_touched[HEAP_TRACKED / 8];
static unsigned long stack_low = EXOS_STACKTOP;

// Was the page at va mapped before (so that missing, it was taken)?
static int was_mapped(unsigned long va)
{
  unsigned long i = (va - PGROUNDDOWN(heap_start)) / PGSIZE;
  if (va >= STACK_LO && va < EXOS_STACKTOP)
    return va >= stack_low;
  return va >= heap_start && i < HEAP_TRACKED && (heap_touched[i / 8] & (1 << (i % 8)));
}

// Remember that the page at va is mapped (mapped is 1) or was given back.
static void note_mapped(unsigned long va, int mapped)
{
  unsigned long i = (va - PGROUNDDOWN(heap_start)) / PGSIZE;
  if (va >= STACK_LO && va < EXOS_STACKTOP && mapped && va < stack_low)
    stack_low = PGROUNDDOWN(va);
  else if (va >= heap_start && i < HEAP_TRACKED && mapped)
    heap_touched[i / 8] |= 1 << (i % 8);
  else if (va >= heap_start && i < HEAP_TRACKED)
    heap_touched[i / 8] &= ~(1 << (i % 8));
}

// End the program: the page at a is gone because the kernel took it.
static void report_lost(unsigned long a)
{
  printf("%s: page 0x%lx was taken by the kernel (revocation); its contents are lost\n",
         exos_progname(), PGROUNDDOWN(a));
  exit(-1);
}

// Map a zeroed page at f->addr if it lies in a heap page (below the break)
// or a stack page (above the guard page) that is not mapped. Returns 1 if
// it mapped one (the faulting instruction is then retried as it was), 0 for
// any other address. If memory runs out, ends the program with a message.
static int map_on_demand(struct xframe *f)
{
  // LAB upcalls: map a zeroed page at a missing heap or stack page
  // HANDOUT: return 0;
  unsigned long a = f->addr;
  int own = (a >= heap_start && a < heap_brk) || (a >= STACK_LO && a < EXOS_STACKTOP);
  if (!own || vm_pte(a) != 0)
    return 0;
  if (vm_alloc(PGROUNDDOWN(a), PTE_R | PTE_W) < 0) {
    printf("%s: out of memory at address 0x%lx\n", exos_progname(), a);
    exit(-1);
  }
  return 1;
  // END LAB upcalls
}

// If f is a fault on the stack's guard page (the page below STACK_LO),
// report a stack overflow with a backtrace and end the program, unless a
// guarded access (ucopy.S) touched it: that call fails instead. For any
// other fault, return.
static void report_overflow(struct xframe *f)
{
  // LAB upcalls: a fault on the guard page, but not a guarded access's: report and exit
  unsigned long a = f->addr;
  if (a >= STACK_LO - PGSIZE && a < STACK_LO && !exos_fault_is_guarded(f)) {
    printf("%s: stack overflow: guard page hit at address 0x%lx (pc 0x%lx)\n", exos_progname(), a,
           f->pc);
    exos_backtrace(f->pc, f->ra, f->s0);
    exit(-1);
  }
  // END LAB upcalls
}

// The page-fault handler: map a zero page for the heap or the stack, or
// report a stack overflow (unless a guarded access, ucopy.S, touched the
// guard page: that call fails instead). Faults it does not own go to the
// handler that was installed before it.
static int heap_fault(struct xframe *f)
{
  unsigned long a = f->addr;
  if (was_mapped(a) && vm_pte(a) == 0)  // (a new page's fault reads no PTE here)
    report_lost(a);  // a zero page would hide what the kernel took
  if (map_on_demand(f)) {
    note_mapped(a, 1);
    return 1;
  }
  if (a >= 0x10000 && a < heap_start && vm_pte(a) == 0 && exos_pages_lost != 0)
    report_lost(a);  // the program's own text or data
  report_overflow(f);
  exos_handler next = next_fault_handler[f->cause];
  return next != NULL && next(f);
}

// Set up the heap and the page-fault handler, and map the top STACK_START
// pages of the stack (at start-up).
void heap_init(void)
{
  heap_start = heap_brk = (unsigned long)end;
  for (unsigned long va = EXOS_STACKTOP - STACK_START * PGSIZE; va < EXOS_STACKTOP; va += PGSIZE)
    if (vm_pte(va) == 0 && vm_alloc(va, PTE_R | PTE_W) < 0)
      break;  // short of memory: the rest comes on demand, if it can
  while (stack_low > STACK_LO && vm_pte(stack_low - PGSIZE) != 0)
    stack_low -= PGSIZE;  // the stack mapped so far
  next_fault_handler[EXC_LOAD_PAGE_FAULT] = exos_set_handler(EXC_LOAD_PAGE_FAULT, heap_fault);
  next_fault_handler[EXC_STORE_PAGE_FAULT] = exos_set_handler(EXC_STORE_PAGE_FAULT, heap_fault);
}

// Grow (or, with n < 0, shrink) the heap by n bytes. Returns the old end of
// the heap, or (void *)-1 if the heap would leave its bounds. Pages given
// back by shrinking are unmapped and freed.
void *sbrk(long n)
{
  exos_critical_enter();  // threads share the heap
  unsigned long old = heap_brk;
  if ((n > 0 && (unsigned long)n > EXOS_HEAP_MAX - old) ||
      (n < 0 && (unsigned long)-n > old - heap_start)) {
    exos_critical_leave();
    return (void *)-1;
  }
  heap_brk = old + n;
  for (unsigned long va = PGROUNDUP(heap_brk); va < PGROUNDUP(old); va += PGSIZE) {
    unsigned long pte = vm_pte(va);
    note_mapped(va, 0);
    if (pte & PTE_V) {
      vm_unmap(va);
      sys_page_free(PTE_PPN(pte));
    }
  }
  exos_critical_leave();
  return (void *)old;
}

// malloc: first fit over a free list kept in address order, whose
// neighbouring blocks are merged on free. Every block starts with a header
// holding its size (header included, a multiple of 16).
struct block {
  size_t size;
  struct block *next;  // on the free list only
};
#define HEADER 16
static struct block *free_list;

// malloc's work; the caller holds exos_critical.
static void *malloc_locked(size_t n)
{
  if (n > (1UL << 36))
    return NULL;
  size_t need = (n + HEADER + 15) & ~15UL;
  for (int attempt = 0; attempt < 2; attempt++) {
    for (struct block **link = &free_list; *link != NULL; link = &(*link)->next) {
      struct block *b = *link;
      if (b->size < need)
        continue;
      if (b->size - need >= 2 * HEADER) {  // split: the tail stays free
        struct block *rest = (struct block *)((char *)b + need);
        rest->size = b->size - need;
        rest->next = b->next;
        *link = rest;
        b->size = need;
      } else {
        *link = b->next;
      }
      return (char *)b + HEADER;
    }
    size_t grow = need > 65536 ? need : 65536;
    struct block *b = sbrk(grow);
    if (b == (void *)-1)
      return NULL;
    b->size = grow;
    free((char *)b + HEADER);
  }
  return NULL;
}

// Allocate n bytes, 16-byte aligned. Returns NULL when memory runs out.
void *malloc(size_t n)
{
  exos_critical_enter();  // threads share the free list
  void *p = malloc_locked(n);
  exos_critical_leave();
  return p;
}

// Return a block from malloc (NULL is ignored).
void free(void *p)
{
  if (p == NULL)
    return;
  exos_critical_enter();  // threads share the free list
  struct block *b = (struct block *)((char *)p - HEADER), **link = &free_list;
  while (*link != NULL && *link < b)
    link = &(*link)->next;
  b->next = *link;
  *link = b;
  if (b->next != NULL && (char *)b + b->size == (char *)b->next) {  // merge with the next
    b->size += b->next->size;
    b->next = b->next->next;
  }
  if (link != &free_list) {  // merge with the previous
    struct block *prev = (struct block *)((char *)link - __builtin_offsetof(struct block, next));
    if ((char *)prev + prev->size == (char *)b) {
      prev->size += b->size;
      prev->next = b->next;
    }
  }
  exos_critical_leave();
}
