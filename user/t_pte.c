// t_pte: the page-table write calls, used properly and attacked. Each check
// prints "name: ok" or "name: FAIL ..."; the kernel's invariant checker runs
// after each group.

#include "user/tsupport.h"

#define LEAF(ppn, perm)                                                                            \
  (PA2PTE((unsigned long)(ppn) << 12) | (perm) | PTE_U | PTE_V | PTE_A | PTE_D)
#define LINK(ppn) (PA2PTE((unsigned long)(ppn) << 12) | PTE_V)
#define REGION    0x2100000000UL  // root entry 132: empty in init's address space

static volatile unsigned long *const word = (volatile unsigned long *)REGION;

static unsigned long parent_root;

// Runs in a child: try to touch the parent's tables and pages.
static void stranger(void)
{
  unsigned int parent = ENVINFO(sys_getenvid())->parent_id;
  check("stranger: write into parent's root refused", sys_pte_write(parent_root, 1, 0), -E_NOTPT);
  check("stranger: destroy parent refused", sys_env_destroy(parent), -E_PERM);
  check("stranger: free parent's root refused", sys_page_free(parent_root), -E_PERM);
  check("stranger: set parent's registers refused", sys_env_set_regs(parent, 0), -E_PERM);
  check("stranger: grant itself parent's page refused",
        sys_page_grant(parent_root, sys_getenvid(), GRANT_R), -E_PERM);
}

// Runs in a child: read the page the parent granted at REGION.
static void reader(void)
{
  check("reader: sees the granted page", *word, 0xfeedface);
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);
  parent_root = self.root;
  unsigned long free0 = SYSINFO->nfree;

  // A level-0 table for REGION and a page to map there.
  long pt0 = aspace_pt0(&self, REGION);
  check("build tables for a fresh region", pt0 > 0, 1);
  long pg = sys_page_alloc(0, 0, PG_USER);
  check("allocate a page", pg > 0, 1);
  check("page is mine and unmapped", PAGEINFO(pg)->owner == me && PAGEINFO(pg)->mapcount == 0, 1);
  check("map it read-write", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W)), 0);
  *word = 0x5eed;
  check("store and load through it", *word, 0x5eed);
  check("mapcount is 1", PAGEINFO(pg)->mapcount, 1);
  kcheck("mapping");

  // Leaf rules.
  check("U clear refused", sys_pte_write(pt0, 1, LEAF(pg, PTE_R) & ~PTE_U), -E_NOTUSER);
  check("G set refused", sys_pte_write(pt0, 1, LEAF(pg, PTE_R) | PTE_G), -E_NOTUSER);
  check("W without R refused", sys_pte_write(pt0, 1, LEAF(pg, PTE_W)), -E_BADBITS);
  check("reserved bits refused", sys_pte_write(pt0, 1, LEAF(pg, PTE_R) | (1UL << 62)), -E_BADBITS);
  check("leaf at level 1 refused", sys_pte_write(self.pt1[0].ppn, 5, LEAF(pg, PTE_R)),
        -E_SUPERPAGE);
  check("leaf at level 2 refused", sys_pte_write(self.root, 140, LEAF(pg, PTE_R)), -E_SUPERPAGE);
  check("index 512 refused", sys_pte_write(pt0, 512, 0), -E_BADINDEX);
  check("root index 256 (kernel half) refused", sys_pte_write(self.root, 256, 0), -E_BADINDEX);
  check("huge index refused", sys_pte_write(pt0, -1UL, 0), -E_BADINDEX);
  check("page outside RAM (UART) refused", sys_pte_write(pt0, 1, LEAF(0x10000, PTE_R)), -E_BADPPN);
  check("page past RAM refused",
        sys_pte_write(pt0, 1, LEAF(SYSINFO->base_ppn + SYSINFO->npages, PTE_R)), -E_BADPPN);
  check("kernel image page refused", sys_pte_write(pt0, 1, LEAF(0x80200, PTE_R | PTE_X)),
        -E_NOACCESS);
  unsigned long freepg = SYSINFO->base_ppn + SYSINFO->npages - 1;
  while (PAGEINFO(freepg)->type != PG_FREE)
    freepg--;
  check("free page refused", sys_pte_write(pt0, 1, LEAF(freepg, PTE_R)), -E_NOACCESS);
  check("write to a non-table page refused", sys_pte_write(pg, 0, 0), -E_NOTPT);
  check("write to the kernel's table refused", sys_pte_write(0x80200, 0, 0), -E_NOTPT);
  kcheck("leaf attacks");

  // Page-table pages: readable by their owner, never writable.
  check("map own level-0 table writable refused", sys_pte_write(pt0, 2, LEAF(pt0, PTE_R | PTE_W)),
        -E_PTWRITABLE);
  check("map own root executable refused", sys_pte_write(pt0, 2, LEAF(self.root, PTE_R | PTE_X)),
        -E_PTWRITABLE);
  check("map own level-0 table read-only", sys_pte_write(pt0, 2, LEAF(pt0, PTE_R)), 0);
  volatile unsigned long *view = (volatile unsigned long *)(REGION + 2 * PGSIZE);
  check("read own table through it", view[0], LEAF(pg, PTE_R | PTE_W));
  // Rewriting a mapped leaf (the kernel's fast path) keeps every rule.
  check("rewrite: G set refused", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W) | PTE_G),
        -E_NOTUSER);
  check("rewrite: U clear refused", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W) & ~PTE_U),
        -E_NOTUSER);
  check("rewrite: W without R refused", sys_pte_write(pt0, 0, LEAF(pg, PTE_W)), -E_BADBITS);
  check("rewrite: a reserved bit refused", sys_pte_write(pt0, 0, LEAF(pg, PTE_R) | (1UL << 55)),
        -E_BADBITS);
  check("rewrite: the table's view made writable refused",
        sys_pte_write(pt0, 2, LEAF(pt0, PTE_R | PTE_W)), -E_PTWRITABLE);
  check("... the entries are unchanged",
        view[0] == LEAF(pg, PTE_R | PTE_W) && view[2] == LEAF(pt0, PTE_R), 1);
  check("rewrite: fewer rights, then more again",
        sys_pte_write(pt0, 0, LEAF(pg, PTE_R)) == 0 && view[0] == LEAF(pg, PTE_R) &&
            sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W)) == 0,
        1);
  *word = 0x5eed2;
  check("... and the page is writable again", *word, 0x5eed2);
  check("u-area writable refused",
        sys_pte_write(pt0, 3, LEAF(ENVINFO(me)->uarea_ppn, PTE_R | PTE_W)), -E_PTWRITABLE);
  check("RSW bits pass through", sys_pte_write(pt0, 4, LEAF(pg, PTE_R) | PTE_RSW), 0);
  check("RSW bits read back", view[4] & PTE_RSW, PTE_RSW);
  check("clear a PTE", sys_pte_write(pt0, 4, 0), 0);
  check("mapcount back to 1", PAGEINFO(pg)->mapcount, 1);
  long pg2 = sys_page_alloc(0, 0, PG_USER);
  check("map a second page beside the first", sys_pte_write(pt0, 5, LEAF(pg2, PTE_R)), 0);
  check("rewrite the first page's entry to the second page",
        sys_pte_write(pt0, 0, LEAF(pg2, PTE_R)), 0);
  check("counts follow the rewrite", PAGEINFO(pg)->mapcount == 0 && PAGEINFO(pg2)->mapcount == 2,
        1);
  kcheck("rewriting an entry to another page");
  check("and back", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W)), 0);
  check("clear the second mapping", sys_pte_write(pt0, 5, 0), 0);
  check("free the second page", sys_page_free(pg2), 0);
  kcheck("page-table views");

  // Non-leaf rules.
  long other0 = sys_page_alloc(0, 0, PG_PT0), other1 = sys_page_alloc(0, 0, PG_PT1);
  check("allocate spare tables", other0 > 0 && other1 > 0, 1);
  check("non-leaf to a data page refused", sys_pte_write(self.pt1[0].ppn, 7, LINK(pg)), -E_BADLINK);
  check("level-0 table linked from root refused", sys_pte_write(self.root, 141, LINK(other0)),
        -E_BADLINK);
  check("level-1 table linked from level 1 refused",
        sys_pte_write(self.pt1[0].ppn, 7, LINK(other1)), -E_BADLINK);
  check("non-leaf in a level-0 table refused", sys_pte_write(pt0, 5, LINK(other0)), -E_BADLINK);
  check("non-leaf with U set refused", sys_pte_write(self.pt1[0].ppn, 7, LINK(other0) | PTE_U),
        -E_BADBITS);
  check("linking a table twice refused", sys_pte_write(self.pt1[0].ppn, 7, LINK(pt0)), -E_LINKED);
  check("free a linked table refused", sys_page_free(pt0), -E_BUSY);
  check("free own root refused", sys_page_free(self.root), -E_BUSY);
  check("free spare tables", sys_page_free(other0) == 0 && sys_page_free(other1) == 0, 1);
  kcheck("link attacks");

  // Children: their tables are ours to write; ours are not theirs.
  long child = sys_env_create("victim");
  check("create a child", child > 0, 1);
  unsigned long croot = ENVINFO(child)->root_ppn;
  long cpt1 = sys_page_alloc(child, 0, PG_PT1);
  check("allocate a table for the child", cpt1 > 0, 1);
  check("write into the child's root", sys_pte_write(croot, 0, LINK(cpt1)), 0);
  check("link own table into the child's refused", sys_pte_write(croot, 1, LINK(self.pt1[0].ppn)),
        -E_BADLINK);
  check("map child's root into own table refused", sys_pte_write(pt0, 6, LEAF(croot, PTE_R)),
        -E_NOACCESS);
  long cpage = sys_page_alloc(child, 0, PG_USER);
  check("map child's page without a grant refused", sys_pte_write(pt0, 6, LEAF(cpage, PTE_R)),
        -E_NOACCESS);
  check("destroy the child", sys_env_destroy(child), 0);
  check("its pages are free again",
        PAGEINFO(cpage)->type == PG_FREE && PAGEINFO(croot)->type == PG_FREE, 1);
  kcheck("child tables");

  long s = spawn_child("stranger", stranger);
  check("spawn a stranger", s > 0, 1);
  run_child(s);
  kcheck("stranger");

  // Grants: a reader sees the page; freeing it or withdrawing the grant
  // breaks the reader's mapping.
  long r = sys_env_create("reader");
  struct aspace ras;
  aspace_init(&ras, r);
  check("map ungranted page into a child refused", aspace_map(&ras, REGION, pg, PTE_R),
        -E_NOACCESS);
  check("grant read", sys_page_grant(pg, r, GRANT_R), 0);
  check("map granted page read-write refused", aspace_map(&ras, REGION, pg, PTE_R | PTE_W),
        -E_NOACCESS);
  check("map granted page read-only", aspace_map(&ras, REGION, pg, PTE_R), 0);
  check("mapcount 2", PAGEINFO(pg)->mapcount, 2);
  check("withdraw the grant", sys_page_grant(pg, r, 0), 0);
  check("withdrawal broke the child's mapping", PAGEINFO(pg)->mapcount, 1);
  check("map after withdrawal refused", aspace_map(&ras, REGION, pg, PTE_R), -E_NOACCESS);
  check("grant W without R refused", sys_page_grant(pg, r, GRANT_W), -E_INVAL);
  check("grant to no one refused", sys_page_grant(pg, 0x7fffff, GRANT_R), -E_BADENV);
  check("grant again and map",
        sys_page_grant(pg, r, GRANT_R) == 0 && aspace_map(&ras, REGION, pg, PTE_R) == 0, 1);
  check("free a page a grantee maps", sys_page_free(pg), 0);
  check("freeing broke every mapping", PAGEINFO(pg)->mapcount == 0 && PAGEINFO(pg)->type == PG_FREE,
        1);
  check("destroy the reader", sys_env_destroy(r), 0);
  kcheck("grants");

  // A grant the child uses while running.
  pg = sys_page_alloc(0, 0, PG_USER);
  check("remap a new page", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W)), 0);
  *word = 0xfeedface;
  s = spawn_child("reader", reader);
  struct aspace sas;
  aspace_init(&sas, s);
  check("grant and map into a running child",
        sys_page_grant(pg, s, GRANT_R) == 0 && aspace_map(&sas, REGION, pg, PTE_R) == 0, 1);
  run_child(s);
  kcheck("running grantee");

  // Batches.
  struct pte_write w[64];
  long pages[64];
  for (int i = 0; i < 64; i++) {
    pages[i] = sys_page_alloc(0, 0, PG_USER);
    w[i] = (struct pte_write){pt0, 64 + i, LEAF(pages[i], PTE_R | PTE_W)};
  }
  check("batch of 64", sys_pte_write_batch(w, 64), 64);
  check("last of the batch is mapped", PAGEINFO(pages[63])->mapcount, 1);
  for (int i = 0; i < 64; i++)
    w[i].pte = 0;
  w[10].index = 600;
  check("batch with a bad entry stops there", sys_pte_write_batch(w, 64), -E_BADINDEX);
  check("entries before it were applied", PAGEINFO(pages[9])->mapcount, 0);
  check("entries after it were not", PAGEINFO(pages[11])->mapcount, 1);
  w[10].index = 74;
  check("finish the batch", sys_pte_write_batch(w + 10, 54), 54);
  // The kernel reads an aligned batch in place, a page at a time: one that
  // crosses a page boundary in the middle of an entry, and a misaligned one.
  static struct pte_write across[171] __attribute__((aligned(4096)));  // 170 and a bit a page
  for (int i = 0; i < 171; i++)
    across[i] = (struct pte_write){pt0, 0, LEAF(pg, PTE_R | PTE_W)};
  across[170].pte = LEAF(pg, PTE_R);
  check("a batch whose last entry crosses a page boundary", sys_pte_write_batch(across, 171), 171);
  check("... that entry applied", view[0], LEAF(pg, PTE_R));
  static char unaligned[sizeof(struct pte_write) + 8] __attribute__((aligned(8)));
  struct pte_write back = {pt0, 0, LEAF(pg, PTE_R | PTE_W)};
  memmove(unaligned + 1, &back, sizeof(back));
  check("a misaligned batch", sys_pte_write_batch((struct pte_write *)(unaligned + 1), 1), 1);
  check("... applied", view[0], LEAF(pg, PTE_R | PTE_W));
  across[5].pte = LEAF(pg, PTE_W);
  check("a batch with a bad rewrite stops there", sys_pte_write_batch(across, 171), -E_BADBITS);
  check("... the entry stays as the entry before it left it", view[0], LEAF(pg, PTE_R | PTE_W));
  check("batch from a kernel address refused", sys_pte_write_batch((void *)0xffffffc080200000UL, 1),
        -E_FAULT);
  check("batch from an unmapped address refused", sys_pte_write_batch((void *)0x1000, 1), -E_FAULT);
  check("oversized batch refused", sys_pte_write_batch(w, 1UL << 40), -E_INVAL);
  for (int i = 0; i < 64; i++)
    sys_page_free(pages[i]);
  kcheck("batches");

  // Allocation by name, exhaustion, and bad pointers.
  long spare = sys_page_alloc(0, 0, PG_USER);
  check("free it", sys_page_free(spare), 0);
  check("allocate that page by number", sys_page_alloc(0, spare, PG_USER), spare);
  check("allocate a used page refused", sys_page_alloc(0, spare, PG_USER), -E_NOTFREE);
  check("allocate outside RAM refused", sys_page_alloc(0, 0x10000, PG_USER), -E_BADPPN);
  check("allocate a root refused", sys_page_alloc(0, 0, PG_PT2), -E_INVAL);
  check("free a kernel page refused", sys_page_free(0x80200), -E_PERM);
  sys_page_free(spare);
  long n = 0, first = sys_page_alloc(0, 0, PG_USER), last = first, p;
  while ((p = sys_page_alloc(0, 0, PG_USER)) > 0) {
    n++;
    last = p;
  }
  check("exhaustion gives E_NOMEM", p, -E_NOMEM);
  printf("allocated %ld pages before running out\n", n + 1);
  // Free everything this program allocated since (owner == me, unmapped).
  for (unsigned long q = SYSINFO->base_ppn; q < SYSINFO->base_ppn + SYSINFO->npages; q++)
    if (PAGEINFO(q)->owner == me && PAGEINFO(q)->type == PG_USER && PAGEINFO(q)->mapcount == 0)
      sys_page_free(q);
  (void)last;
  check("cputs from a kernel address refused", sys_cputs((char *)0xffffffc080200000UL, 4),
        -E_FAULT);
  check("cputs with a huge length refused", sys_cputs("x", -1UL), -E_INVAL);
  check("cputs running past the user half refused", sys_cputs((char *)(UTOP - 8), 16), -E_FAULT);
  register long a0 asm("a0");
  register long a7 asm("a7") = 999;
  asm volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");
  check("unknown system call", a0, -E_NOSYS);
  kcheck("exhaustion");

  // Tidy up: unmap and free what remains; the free count returns to start.
  check("free the mapped page", sys_page_free(pg), 0);
  check("tear down the tables", aspace_teardown(&self), 0);
  check("no page leaked", SYSINFO->nfree, free0);
  kcheck("cleanup");
  finish("t_pte");
}
