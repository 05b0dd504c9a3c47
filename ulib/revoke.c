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

static struct region regions[NREGIONS];
static struct exos_resident resident[NRESIDENT];
static int nresident;
static unsigned long allowance = NRESIDENT, loads;
static exos_policy policy = exos_policy_clock;
static const struct exos_reclaimer *reclaimer;  // a higher layer's rebuildable pages, or NULL
static unsigned int repossessions_seen;         // entries of the repossession vector handled
static unsigned long answered;                  // deadline of the last request answered
static exos_handler next_handler[16];
volatile unsigned long exos_pageins, exos_pageouts;  // handlers change them (exos_pages_lost: vm.c)

#define U ((const volatile struct uarea *)UAREA)

// The default policy: the clock. Sweep the resident pages from where the
// last sweep stopped; a page used since the hand last passed (PTE_A set)
// gets a second chance (its PTE_A is cleared), the first one unused goes.
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
  for (int i = 0; i < NREGIONS; i++)
    if (regions[i].npages != 0 && va - regions[i].va < regions[i].npages * PGSIZE)
      return &regions[i];
  return NULL;
}

// Read or write disk block `block` from or to page ppn, and wait for it.
static long block_io(unsigned long block, unsigned long ppn, int write)
{
  long r = sys_disk_io(block, ppn, write);
  return r < 0 ? r : sys_disk_wait(r);
}

// Evict resident page i: write it back if it is dirty, unmap it and free it.
static void evict(int i)
{
  struct exos_resident *p = &resident[i];
  struct region *r = region_of(p->va);
  unsigned long pte = vm_pte(p->va);
  vm_unmap(p->va);  // first, so no store slips in after the write-back
  if ((pte & PTE_D) && block_io(r->blocks[(p->va - r->va) / PGSIZE], p->ppn, 1) < 0)
    printf("%s: cannot write back page 0x%lx\n", exos_progname(), p->va);
  if (pte & PTE_D)
    exos_pageouts++;
  sys_page_free(p->ppn);
  *p = resident[--nresident];
}

// Evict up to n resident pages, chosen by the policy. Returns how many.
static unsigned long evict_some(unsigned long n)
{
  unsigned long done = 0;
  for (; done < n && nresident > 0; done++) {
    int victim = policy(resident, nresident);
    evict(victim >= 0 && victim < nresident ? victim : 0);
  }
  return done;
}

// The page-fault handler for paged regions: read the page in, making room
// first if the region is at its allowance or memory is short.
static int region_fault(struct xframe *f)
{
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
  if (p >= 0 && (err = block_io(r->blocks[(va - r->va) / PGSIZE], p, 0)) >= 0)
    err = vm_map_ad(va, p, PTE_R | PTE_W | PTE_A);  // PTE_D clear: the hardware marks stores
  if (err < 0) {
    printf("%s: cannot page in 0x%lx (error %ld)\n", exos_progname(), va, err);
    exit(-1);
  }
  resident[nresident++] = (struct exos_resident){.va = va, .ppn = p, .loaded = ++loads};
  exos_pageins++;
  return 1;
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
// Returns 0, -E_INVAL for a bad or overlapping range, or -E_NOMEM when
// NREGIONS regions exist already.
long region_map(unsigned long va, unsigned long npages, const unsigned int *blocks)
{
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
}

// Write every dirty resident page of the regions back to its block.
void region_sync(void)
{
  for (int i = 0; i < nresident; i++) {
    struct exos_resident *p = &resident[i];
    unsigned long pte = vm_pte(p->va);
    struct region *r = region_of(p->va);
    if ((pte & PTE_D) && block_io(r->blocks[(p->va - r->va) / PGSIZE], p->ppn, 1) >= 0) {
      vm_map_ad(p->va, p->ppn, pte & (PTE_R | PTE_W | PTE_X | PTE_A));
      exos_pageouts++;
    }
  }
}

// Page ppn was taken by the kernel: forget it.
static void repossessed(unsigned long ppn)
{
  for (int i = 0; i < nresident; i++)
    if (resident[i].ppn == ppn) {
      resident[i] = resident[--nresident];
      return;
    }
  if (reclaimer == NULL || !reclaimer->taken(ppn))
    exos_pages_lost++;
}

// The revocation upcall (from exos_revoke_entry in xentry.S): repair what
// the kernel took, then answer a new request.
void exos_revoke_upcall(struct xframe *f)
{
  unsigned int taken = U->repossessed_count;
  unsigned long lost = exos_pages_lost;
  for (; repossessions_seen < taken; repossessions_seen++) {
    unsigned long what = repossessions_seen < NREPOSSESSED ? U->repossessed[repossessions_seen] : 0;
    if (what >= NSLICES)  // a page (slices are small numbers)
      repossessed(what);
    else if (repossessions_seen >= NREPOSSESSED)
      exos_pages_lost++;  // the vector overflowed: assume the worst
  }
  if (exos_pages_lost != lost)
    printf("%s: the kernel took %lu pages whose contents are lost\n", exos_progname(),
           exos_pages_lost - lost);

  unsigned long deadline = U->revoke_deadline;
  if (deadline == 0 || deadline == answered)
    return;
  answered = deadline;
  unsigned long arg = U->revoke_arg;
  // LAB revoke: answer: n pages (the policy picks, the reclaimer adds), a named page, a slice
  // HANDOUT: (void)arg;
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
