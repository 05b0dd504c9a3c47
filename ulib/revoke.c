// ExOS's answer to revocation: paged regions and the page-replacement policy.
//
// The kernel asks for resources back visibly (its revocation upcall, see
// kernel/revoke.c): n pages, a named page, or a time slice, by a deadline.
// ExOS can give back only what it can bring back later: the pages of paged
// regions, whose contents live in disk blocks (a file's, say) and are read
// in on a fault. Which resident page goes is the replacement policy's choice:
// the default is the clock (second chance) over the accessed bits, which the
// hardware sets in PTEs that ExOS maps without PTE_A; a program may install
// its own (a scan that knows its order does much better, see user/pagedemo).
// The same policy picks a victim when a region has used its allowance.
// Beyond the regions, a higher layer may offer pages it can rebuild (the
// file server's block cache, fs.c) through exos_set_reclaimer: a request
// the regions cannot meet is passed on to it, and a page the kernel took
// that is its own is its to forget, not lost.
//
// What ExOS does not give back in time the kernel takes (the abort protocol)
// and lists in the u-area's repossession vector; the revocation entry runs
// again and ExOS repairs its state: a region page taken is simply not
// resident any more (a store not yet written back is lost), and any other
// page taken is counted in exos_pages_lost: the heap reports a touch of one.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define NREGIONS  8
#define NRESIDENT 512

struct region {
  unsigned long va, npages;    // npages 0: a free slot
  const unsigned int *blocks;  // the disk block holding each page
};

// What revoke_init sets is ExOS's state (exos.h): a forked child sets it first thing.
static EXOS_STATE struct region regions[NREGIONS];
static struct exos_resident resident[NRESIDENT];
static EXOS_STATE int nresident;
static unsigned long allowance = NRESIDENT, loads;
static exos_policy policy = exos_policy_clock;
static const struct exos_reclaimer *reclaimer;  // a higher layer's rebuildable pages, or NULL
static EXOS_STATE unsigned int repossessions_seen;  // entries of the repossession vector handled
static EXOS_STATE unsigned long answered;           // deadline of the last request answered
static exos_handler next_handler[16];
volatile unsigned long exos_pageins, exos_pageouts;  // handlers change them (exos_pages_lost: vm.c)

#define U ((const volatile struct uarea *)UAREA)

// The default policy: the clock. Sweep the resident pages from where the
// last sweep stopped; a page used since the hand last passed (PTE_A set)
// gets a second chance (its PTE_A is cleared, every other bit kept), the
// first one unused goes. Returns its index in pages[0 .. n-1].
int exos_policy_clock(const struct exos_resident *pages, int n)
{
  static int hand;
  // LAB revoke: sweep from hand; clear PTE_A of used pages, return the first unused
  // HANDOUT: return 0;
  for (;;) {
    if (hand >= n)
      hand = 0;
    unsigned long pte = vm_pte(pages[hand].va);
    if (!(pte & PTE_A))
      return hand;
    vm_map_ad(pages[hand].va, pages[hand].ppn, pte & (PTE_R | PTE_W | PTE_X | PTE_D));
    hand++;
  }
  // END LAB revoke
}

// Install a replacement policy (NULL: the default); returns the old one.
exos_policy exos_set_policy(exos_policy p)
{
  exos_policy old = policy;
  policy = p != NULL ? p : exos_policy_clock;
  return old;
}

// Offer a higher layer's rebuildable pages to revocation (NULL: none).
void exos_set_reclaimer(const struct exos_reclaimer *r)
{
  reclaimer = r;
}

// Let paged regions keep at most n pages resident (at least 1).
void region_set_allowance(unsigned long n)
{
  allowance = n < 1 ? 1 : n > NRESIDENT ? NRESIDENT : n;
}

// The region holding va, or NULL.
static struct region *region_of(unsigned long va)
{
  // LAB revoke: look va up in regions[] (a slot with npages 0 is free)
  // HANDOUT: return NULL;
  for (int i = 0; i < NREGIONS; i++)
    if (regions[i].npages != 0 && va - regions[i].va < regions[i].npages * PGSIZE)
      return &regions[i];
  return NULL;
  // END LAB revoke
}

// The disk block holding the page at va, which region r covers.
static unsigned long block_of(const struct region *r, unsigned long va)
{
  return r->blocks[(va - r->va) / PGSIZE];
}

// Read or write disk block `block` from or to page ppn, and wait for it.
static long block_io(unsigned long block, unsigned long ppn, int write)
{
  long r = sys_disk_io(block, ppn, write);
  return r < 0 ? r : sys_disk_wait(r);
}

// Write resident page p to its block if pte, its PTE as last read, is
// dirty (PTE_D), counting it in exos_pageouts. Returns 1 if it wrote the
// page, 0 if the page was clean, or an error.
static long write_back(const struct exos_resident *p, unsigned long pte)
{
  // LAB revoke: a dirty page goes to its region's block (block_of, block_io)
  // HANDOUT: return 0;
  if (!(pte & PTE_D))
    return 0;
  long err = block_io(block_of(region_of(p->va), p->va), p->ppn, 1);
  if (err < 0) {
    printf("%s: cannot write back page 0x%lx (error %ld)\n", exos_progname(), p->va, err);
    return err;
  }
  exos_pageouts++;
  return 1;
  // END LAB revoke
}

// Evict resident page i: unmap it, write it back if it is dirty, free it,
// and forget it (the last entry of resident[] takes its place).
static void evict(int i)
{
  // LAB revoke: read the PTE, unmap (no store may slip in), write back, free, forget
  struct exos_resident *p = &resident[i];
  unsigned long pte = vm_pte(p->va);
  vm_unmap(p->va);
  write_back(p, pte);
  sys_page_free(p->ppn);
  *p = resident[--nresident];
  // END LAB revoke
}

// Evict up to n resident pages, each the policy's choice. Returns how many.
static unsigned long evict_some(unsigned long n)
{
  // LAB revoke: ask the installed policy for each victim (an index out of range: take 0)
  // HANDOUT: return 0;
  unsigned long done = 0;
  for (; done < n && nresident > 0; done++) {
    int victim = policy(resident, nresident);
    evict(victim >= 0 && victim < nresident ? victim : 0);
  }
  return done;
  // END LAB revoke
}

// The page-fault handler for paged regions: read the page in, making room
// first if the region is at its allowance or memory is short. A fault
// outside the regions, or on a page that is mapped (a protection fault),
// goes to the handler installed before this one.
static int region_fault(struct xframe *f)
{
  // LAB revoke: page in: room (allowance, -E_NOMEM), read the block, map with PTE_A, note it
  // HANDOUT: exos_handler next = next_handler[f->cause];
  // HANDOUT: return next != NULL && next(f);
  unsigned long va = PGROUNDDOWN(f->addr);
  struct region *r = f->addr < UTOP ? region_of(va) : NULL;
  if (r == NULL || vm_pte(va) != 0) {
    exos_handler next = next_handler[f->cause];
    return next != NULL && next(f);
  }
  if (nresident >= (long)allowance)
    evict_some(1);
  long p;
  while ((p = vm_page_alloc(PG_USER)) == -E_NOMEM && evict_some(1) == 1)
    ;
  long err = p;
  if (p >= 0 && (err = block_io(block_of(r, va), p, 0)) >= 0)
    err = vm_map_ad(va, p, PTE_R | PTE_W | PTE_A);  // PTE_D clear: the hardware marks stores
  if (err < 0) {
    printf("%s: cannot page in 0x%lx (error %ld)\n", exos_progname(), va, err);
    exit(-1);
  }
  resident[nresident++] = (struct exos_resident){.va = va, .ppn = p, .loaded = ++loads};
  exos_pageins++;
  return 1;
  // END LAB revoke
}

// How many pages of paged regions are resident.
int region_resident(void)
{
  return nresident;
}

// Is va in a paged region? (fork does not share those pages.)
int region_contains(unsigned long va)
{
  return region_of(va) != NULL;
}

// Make [va, va + npages pages) a paged region whose page i lives in disk
// block blocks[i] (the array must stay valid while the region exists).
// Pages are read in when touched and written back when evicted if dirty.
// Returns 0, -E_INVAL for a bad or overlapping range (or one reaching
// ExOS's own pages at EXOS_SCRATCH), or -E_NOMEM when NREGIONS regions
// exist already.
long region_map(unsigned long va, unsigned long npages, const unsigned int *blocks)
{
  // LAB revoke: check the range, then take a free slot of regions[]
  // HANDOUT: return -E_NOSYS;
  if ((va & (PGSIZE - 1)) || npages == 0 || va >= EXOS_SCRATCH ||
      npages > (EXOS_SCRATCH - va) / PGSIZE)
    return -E_INVAL;
  for (int i = 0; i < NREGIONS; i++)
    if (regions[i].npages != 0 && va < regions[i].va + regions[i].npages * PGSIZE &&
        regions[i].va < va + npages * PGSIZE)
      return -E_INVAL;
  for (int i = 0; i < NREGIONS; i++)
    if (regions[i].npages == 0) {
      regions[i] = (struct region){.va = va, .npages = npages, .blocks = blocks};
      return 0;
    }
  return -E_NOMEM;
  // END LAB revoke
}

// Write every dirty resident page of the regions back to its block, and
// mark it clean (its PTE_D cleared, its other bits kept) so that evicting
// it later does not write it again. Called by the program, so it runs in
// a critical section: no revocation upcall changes resident[] meanwhile.
void region_sync(void)
{
  // LAB revoke: in a critical section, mark each dirty resident page clean, then write it back
  exos_critical_enter();
  for (int i = 0; i < nresident; i++) {
    struct exos_resident *p = &resident[i];
    unsigned long pte = vm_pte(p->va);
    if (!(pte & PTE_D))
      continue;
    // Clean first: a store while it is written marks it dirty again.
    vm_map_ad(p->va, p->ppn, pte & (PTE_R | PTE_W | PTE_X | PTE_A));
    write_back(p, pte);
  }
  exos_critical_leave();
  // END LAB revoke
}

// Page ppn was taken by the kernel: forget it. A region page is simply not
// resident any more (the next touch reads it in again); a page of the
// higher layer's is its to forget (reclaimer->taken); any other page's
// contents are lost (exos_pages_lost).
static void repossessed(unsigned long ppn)
{
  // LAB revoke: a resident region page, else the reclaimer's, else lost
  for (int i = 0; i < nresident; i++)
    if (resident[i].ppn == ppn) {
      resident[i] = resident[--nresident];
      return;
    }
  if (reclaimer == NULL || !reclaimer->taken(ppn))
    exos_pages_lost++;
  // END LAB revoke
}

// Repair what the kernel took by force: handle the entries of the u-area's
// repossession vector not handled yet (repossessions_seen of them were).
// An entry is a page number, or a slice position (a small number: nothing
// to repair); one past the end of the vector, which the kernel counted but
// could not record, may have been any page: count it lost. Then say how
// many pages whose contents are lost were taken.
static void repair(void)
{
  // LAB revoke: walk U->repossessed[] from repossessions_seen to U->repossessed_count
  unsigned int taken = U->repossessed_count;
  unsigned long lost = exos_pages_lost;
  for (; repossessions_seen < taken; repossessions_seen++) {
    if (repossessions_seen >= NREPOSSESSED)
      exos_pages_lost++;  // the vector overflowed: assume the worst
    else if (U->repossessed[repossessions_seen] >= NSLICES)
      repossessed(U->repossessed[repossessions_seen]);
  }
  if (exos_pages_lost != lost)
    printf("%s: the kernel took %lu pages whose contents are lost\n", exos_progname(),
           exos_pages_lost - lost);
  // END LAB revoke
}

// Answer the kernel's request in the u-area: REVOKE_PAGES, give revoke_arg
// pages (the policy's victims, then what the reclaimer can give); REVOKE_PAGE,
// give the named page if it is a resident region page; REVOKE_SLICE, free
// the slice. Each request is answered once (its deadline identifies it).
static void answer(void)
{
  // LAB revoke: a new request (deadline set, not the one answered last): n pages, a page, a slice
  unsigned long deadline = U->revoke_deadline, arg = U->revoke_arg;
  if (deadline == 0 || deadline == answered)
    return;
  answered = deadline;
  if (U->revoke_kind == REVOKE_PAGES) {
    unsigned long done = evict_some(arg);
    if (done < arg && reclaimer != NULL)
      reclaimer->give(arg - done);
  } else if (U->revoke_kind == REVOKE_PAGE) {
    for (int i = 0; i < nresident; i++)
      if (resident[i].ppn == arg) {
        evict(i);
        break;
      }
  } else if (U->revoke_kind == REVOKE_SLICE) {
    sys_slice_free(arg);
  }
  // END LAB revoke
}

// The revocation upcall (from exos_revoke_entry in xentry.S): repair what
// the kernel took, then answer a new request.
void exos_revoke_upcall(struct xframe *f)
{
  repair();
  answer();
}

// Forget regions (a forked child starts without them: its copies of the
// resident pages are plain memory) and take up the revocation entry and the
// region page-fault handler (at start-up, and in a forked child by the fork
// hook registered here; fork leaves region pages out of the child).
void revoke_init(void)
{
  static int installed;
  memset(regions, 0, sizeof(regions));
  nresident = 0;
  repossessions_seen = U->repossessed_count;
  answered = 0;
  if (!installed) {
    next_handler[EXC_LOAD_PAGE_FAULT] = exos_set_handler(EXC_LOAD_PAGE_FAULT, region_fault);
    next_handler[EXC_STORE_PAGE_FAULT] = exos_set_handler(EXC_STORE_PAGE_FAULT, region_fault);
    installed = 1;
  }
  exos_on_fork_skip(region_contains);
  exos_on_fork_child(revoke_init);
  exos_revoke_hook = exos_revoke_upcall;  // what xentry.S's revocation entry calls
  sys_env_set_entry(0, ENTRY_REVOKE, (unsigned long)exos_revoke_entry);
}
