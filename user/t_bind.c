// t_bind: the bindings lab's tests of the secure binding for memory.
//
//   t_bind use       page-table writes used properly: they must work
//   t_bind attacks   hostile writes, each breaking one rule of kernel/pte.c:
//                    each must be refused with that rule's error and leave
//                    the entry as it was, alone, alone in a batch, and after
//                    a common write in a batch; kcheck after every attack
//   t_bind rmap      the reverse map: counts, freeing and withdrawing break
//                    every mapping, nothing leaks
//
// Each check prints "name: ok" or "name: FAIL ..."; the last line is
// "t_bind: all N checks passed" or "t_bind: N of M checks FAILED".

#include "user/tsupport.h"

#define LEAF(ppn, perm)                                                                            \
  (PA2PTE((unsigned long)(ppn) << 12) | (perm) | PTE_U | PTE_V | PTE_A | PTE_D)
#define LINK(ppn) (PA2PTE((unsigned long)(ppn) << 12) | PTE_V)
#define REGION    0x2100000000UL  // root entry 132: empty in init's address space
#define VIEWS     0x2140000000UL  // read-only views of our own tables (root entry 133)

static volatile unsigned long *const word = (volatile unsigned long *)REGION;

// What the tests work with, set up by setup().
static unsigned int me;
static unsigned long free0;  // free pages before setup
static long pt0, pt1, pg, child, cpage, cpt0, croot, spare0, spare1, granted;
static volatile unsigned long *view0, *view1, *view2;  // pt0, pt1 and our root, read-only

// A view of table ppn at slot `slot` of the VIEWS region, read-only.
static volatile unsigned long *view_of(long ppn, int slot)
{
  unsigned long va = VIEWS + slot * PGSIZE;
  check("map a view of a table", aspace_map(&self, va, ppn, PTE_R), 0);
  return (volatile unsigned long *)va;
}

// A page that is free now, searched from the top of RAM.
static unsigned long free_page(void)
{
  unsigned long p = SYSINFO->base_ppn + SYSINFO->npages - 1;
  while (PAGEINFO(p)->type != PG_FREE)
    p--;
  return p;
}

// Tables, pages and a child to attack with: pt0 maps pg read-write at slot
// 0, our table views at slots 1..3 of VIEWS, the child's page granted to us
// read-only mapped at slot 3 of pt0.
static void setup(void)
{
  me = sys_getenvid();
  aspace_init(&self, me);
  pt0 = aspace_pt0(&self, REGION);
  pt1 = self.pt1[0].ppn;
  pg = sys_page_alloc(0, 0, PG_USER);
  check("set up: a table and a page", pt0 > 0 && pg > 0, 1);
  check("set up: map the page", sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W)), 0);
  view0 = view_of(pt0, 0);
  view1 = view_of(pt1, 1);
  view2 = view_of(self.root, 2);
  child = sys_env_create("victim");
  croot = ENVINFO(child)->root_ppn;
  cpage = sys_page_alloc(child, 0, PG_USER);
  granted = sys_page_alloc(child, 0, PG_USER);
  long cpt1 = sys_page_alloc(child, 0, PG_PT1);
  cpt0 = sys_page_alloc(child, 0, PG_PT0);
  check("set up: a child with pages and tables",
        child > 0 && cpage > 0 && granted > 0 && cpt1 > 0 && cpt0 > 0, 1);
  check("set up: link the child's tables",
        sys_pte_write(croot, 0, LINK(cpt1)) == 0 && sys_pte_write(cpt1, 0, LINK(cpt0)) == 0, 1);
  check("set up: the child grants us a page read-only",
        sys_page_grant(granted, me, GRANT_R) == 0 &&
            sys_pte_write(pt0, 3, LEAF(granted, PTE_R)) == 0,
        1);
  check("set up: a view of our own table", sys_pte_write(pt0, 2, LEAF(pt0, PTE_R)), 0);
  spare0 = sys_page_alloc(0, 0, PG_PT0);
  spare1 = sys_page_alloc(0, 0, PG_PT1);
  check("set up: spare tables", spare0 > 0 && spare1 > 0, 1);
}

// ---------------------------------------------------------------- use

static void run_use(void)
{
  *word = 0x5eed;
  check("store and load through a mapping", *word, 0x5eed);
  check("the page's mapping count is 1", PAGEINFO(pg)->mapcount, 1);
  check("read our own level-0 table through its view", view0[0], LEAF(pg, PTE_R | PTE_W));
  check("read the link to it in the level-1 table", view1[PX(1, REGION)], LINK(pt0));
  check("read a granted page", ((volatile unsigned long *)(REGION + 3 * PGSIZE))[0], 0);
  check("fewer rights (read-only)", sys_pte_write(pt0, 0, LEAF(pg, PTE_R)), 0);
  check("... the entry says so", view0[0], LEAF(pg, PTE_R));
  check("more rights again (read-write-execute)", sys_pte_write(pt0, 0, LEAF(pg, PTE_RWX)), 0);
  *word = 0x5eed2;
  check("... and the page is writable", *word, 0x5eed2);
  check("the RSW bits pass through", sys_pte_write(pt0, 4, LEAF(pg, PTE_R) | PTE_RSW), 0);
  check("... and read back", view0[4] & PTE_RSW, PTE_RSW);
  check("a second mapping of the page", PAGEINFO(pg)->mapcount, 2);
  check("clear it", sys_pte_write(pt0, 4, 0), 0);
  check("clearing an empty entry", sys_pte_write(pt0, 5, 0), 0);
  check("write into the child's tables", sys_pte_write(cpt0, 0, LEAF(cpage, PTE_R | PTE_W)), 0);
  check("link a spare level-0 table", sys_pte_write(pt1, PX(1, REGION) + 1, LINK(spare0)), 0);
  check("... unlink it", sys_pte_write(pt1, PX(1, REGION) + 1, 0), 0);
  check("... and link it again elsewhere", sys_pte_write(pt1, PX(1, REGION) + 2, LINK(spare0)), 0);
  check("... and unlink it", sys_pte_write(pt1, PX(1, REGION) + 2, 0), 0);
  check("link a spare level-1 table at root entry 134", sys_pte_write(self.root, 134, LINK(spare1)),
        0);
  check("... and unlink it", sys_pte_write(self.root, 134, 0), 0);
  struct pte_write w[64];
  for (int i = 0; i < 64; i++)
    w[i] = (struct pte_write){pt0, 64 + i, LEAF(pg, PTE_R)};
  check("a batch of 64 new mappings", sys_pte_write_batch(w, 64), 64);
  check("... all counted", PAGEINFO(pg)->mapcount, 65);
  for (int i = 0; i < 64; i++)
    w[i].pte = LEAF(pg, PTE_R | PTE_W);
  check("a batch of 64 rewrites", sys_pte_write_batch(w, 64), 64);
  check("... the entries say so", view0[64] == LEAF(pg, PTE_R | PTE_W) &&
                                      view0[127] == LEAF(pg, PTE_R | PTE_W), 1);
  for (int i = 0; i < 64; i++)
    w[i].pte = 0;
  check("a batch of 64 clears", sys_pte_write_batch(w, 64), 64);
  check("... the count is back to 1", PAGEINFO(pg)->mapcount, 1);
  kcheck("proper use");
}

// ---------------------------------------------------------------- attacks

struct attack {
  const char *name;
  long table;
  unsigned long index, pte;
  long err;
  volatile unsigned long *view;  // the table's view, to see the entry unchanged (or NULL)
};

static int attacks;

// Try one attack alone, alone in a batch, after a common write in a batch,
// and before one (which the batch must then not make); each must give its
// error and leave the entry as it was.
static void attack(struct attack a)
{
  char name[160];
  unsigned long before = a.view && a.index < NPTENTRIES ? a.view[a.index] : 0;
  attacks++;
  snprintf(name, sizeof(name), "%s: refused", a.name);
  check(name, sys_pte_write(a.table, a.index, a.pte), a.err);
  struct pte_write w[2] = {{pt0, 0, LEAF(pg, PTE_R | PTE_W)}, {a.table, a.index, a.pte}};
  snprintf(name, sizeof(name), "%s: refused in a batch", a.name);
  check(name, sys_pte_write_batch(&w[1], 1), a.err);
  snprintf(name, sizeof(name), "%s: refused after a common write in a batch", a.name);
  check(name, sys_pte_write_batch(w, 2), a.err);
  struct pte_write after[2] = {{a.table, a.index, a.pte}, {pt0, 0, LEAF(pg, PTE_R)}};
  snprintf(name, sizeof(name), "%s: refused before a write in a batch, which is not made", a.name);
  check(name, sys_pte_write_batch(after, 2) == a.err && view0[0] == LEAF(pg, PTE_R | PTE_W), 1);
  if (a.view && a.index < NPTENTRIES) {
    snprintf(name, sizeof(name), "%s: the entry is unchanged", a.name);
    check(name, a.view[a.index] == before, 1);
  }
  printf("after %s: ", a.name);
  check("kcheck", sys_kcheck(), 0);
}

// From a child of ours: attack the tables of the environment that made it.
static void stranger(void)
{
  unsigned int parent = ENVINFO(sys_getenvid())->parent_id;
  unsigned long proot = ENVINFO(parent)->root_ppn;
  check("stranger: write into its parent's root refused", sys_pte_write(proot, 140, 0), -E_NOTPT);
  check("stranger: write into its parent's level-0 table refused",
        sys_pte_write(pt0, 9, LEAF(pg, PTE_R)), -E_NOTPT);
  check("stranger: unlink its parent's level-0 table refused", sys_pte_write(pt1, PX(1, REGION), 0),
        -E_NOTPT);
  check("stranger: kcheck", sys_kcheck(), 0);
}

static void run_attacks(void)
{
  unsigned long base = SYSINFO->base_ppn, top = base + SYSINFO->npages;
  unsigned long uarea = ENVINFO(me)->uarea_ppn, cuarea = ENVINFO(child)->uarea_ppn;
  unsigned long kroot_index = 256;
  unsigned long r = PTE_R, rw = PTE_R | PTE_W;
  struct attack list[] = {
      // A leaf's bits.
      {"a leaf without U", pt0, 1, LEAF(pg, r) & ~PTE_U, -E_NOTUSER, view0},
      {"a leaf with G", pt0, 1, LEAF(pg, r) | PTE_G, -E_NOTUSER, view0},
      {"a leaf with W but not R", pt0, 1, LEAF(pg, PTE_W), -E_BADBITS, view0},
      {"a leaf with W and X but not R", pt0, 1, LEAF(pg, PTE_W | PTE_X), -E_BADBITS, view0},
      {"a leaf with reserved bit 54", pt0, 1, LEAF(pg, r) | (1UL << 54), -E_BADBITS, view0},
      {"a leaf with reserved bit 63", pt0, 1, LEAF(pg, r) | (1UL << 63), -E_BADBITS, view0},
      // Levels.
      {"a leaf in a level-1 table (a superpage)", pt1, 7, LEAF(pg, r), -E_SUPERPAGE, view1},
      {"a leaf in the root (a gigapage)", self.root, 140, LEAF(pg, r), -E_SUPERPAGE, view2},
      {"a link in a level-0 table", pt0, 1, LINK(spare0), -E_BADLINK, view0},
      // Indices.
      {"index 512", pt0, 512, 0, -E_BADINDEX, NULL},
      {"index -1", pt0, -1UL, 0, -E_BADINDEX, NULL},
      {"root index 256, the kernel's half", self.root, kroot_index, 0, -E_BADINDEX, NULL},
      {"root index 511", self.root, 511, 0, -E_BADINDEX, NULL},
      // Pages that are not RAM.
      {"a leaf for the UART", pt0, 1, LEAF(0x10000, rw), -E_BADPPN, view0},
      {"a leaf for the page after RAM", pt0, 1, LEAF(top, r), -E_BADPPN, view0},
      {"a leaf for the page before RAM", pt0, 1, LEAF(base - 1, r), -E_BADPPN, view0},
      {"a leaf for the largest page number", pt0, 1, LEAF((1UL << 44) - 1, r), -E_BADPPN, view0},
      {"a link to a page after RAM", pt1, 7, LINK(top), -E_BADPPN, view1},
      // Pages that are not ours.
      {"a leaf for a kernel page", pt0, 1, LEAF(0x80200, PTE_R | PTE_X), -E_NOACCESS, view0},
      {"a leaf for a free page", pt0, 1, LEAF(free_page(), rw), -E_NOACCESS, view0},
      {"a leaf for a child's page, not granted", pt0, 1, LEAF(cpage, r), -E_NOACCESS, view0},
      {"a leaf for a page granted R, as RW", pt0, 1, LEAF(granted, rw), -E_NOACCESS, view0},
      {"a leaf for a page granted R, as RX", pt0, 1, LEAF(granted, PTE_R | PTE_X), -E_NOACCESS,
       view0},
      {"a leaf for a child's root", pt0, 1, LEAF(croot, r), -E_NOACCESS, view0},
      {"a leaf for a child's u-area", pt0, 1, LEAF(cuarea, r), -E_NOACCESS, view0},
      {"a leaf in the child's table for our page", cpt0, 1, LEAF(pg, r), -E_NOACCESS, NULL},
      // Our own tables and u-area: read-only only.
      {"our level-0 table, writable", pt0, 1, LEAF(pt0, rw), -E_PTWRITABLE, view0},
      {"our level-1 table, executable", pt0, 1, LEAF(pt1, PTE_R | PTE_X), -E_PTWRITABLE, view0},
      {"our root, read-write-execute", pt0, 1, LEAF(self.root, PTE_RWX), -E_PTWRITABLE, view0},
      {"our u-area, writable", pt0, 1, LEAF(uarea, rw), -E_PTWRITABLE, view0},
      // Writing into what is not a page table of ours.
      {"a write into a data page", pg, 0, 0, -E_NOTPT, NULL},
      {"a write into a kernel page", 0x80200, 0, 0, -E_NOTPT, NULL},
      {"a write into a free page", free_page(), 0, 0, -E_NOTPT, NULL},
      {"a write into a page after RAM", top, 0, 0, -E_NOTPT, NULL},
      {"a write into page 0", 0, 0, 0, -E_NOTPT, NULL},
      // Links.
      {"a link to a data page", pt1, 7, LINK(pg), -E_BADLINK, view1},
      {"a level-0 table linked from the root", self.root, 141, LINK(spare0), -E_BADLINK, view2},
      {"a level-1 table linked from a level-1 table", pt1, 7, LINK(spare1), -E_BADLINK, view1},
      {"a root linked from the root", self.root, 141, LINK(self.root), -E_BADLINK, view2},
      {"a child's level-0 table linked into ours", pt1, 7, LINK(cpt0), -E_BADLINK, view1},
      {"our level-1 table linked into the child's root", croot, 1, LINK(spare1), -E_BADLINK, NULL},
      {"a link with U", pt1, 7, LINK(spare0) | PTE_U, -E_BADBITS, view1},
      {"a link with G", pt1, 7, LINK(spare0) | PTE_G, -E_BADBITS, view1},
      {"a link with A and D", pt1, 7, LINK(spare0) | PTE_A | PTE_D, -E_BADBITS, view1},
      {"a link with a reserved bit", pt1, 7, LINK(spare0) | (1UL << 60), -E_BADBITS, view1},
      {"a table linked a second time", pt1, 7, LINK(pt0), -E_LINKED, view1},
      // Rewriting a leaf that maps something (the common write's path).
      {"a rewrite adding G", pt0, 0, LEAF(pg, rw) | PTE_G, -E_NOTUSER, view0},
      {"a rewrite dropping U", pt0, 0, LEAF(pg, rw) & ~PTE_U, -E_NOTUSER, view0},
      {"a rewrite to W without R", pt0, 0, LEAF(pg, PTE_W), -E_BADBITS, view0},
      {"a rewrite with a reserved bit", pt0, 0, LEAF(pg, rw) | (1UL << 55), -E_BADBITS, view0},
      {"a rewrite of a granted page to RW", pt0, 3, LEAF(granted, rw), -E_NOACCESS, view0},
      {"a rewrite of a granted page to RX", pt0, 3, LEAF(granted, PTE_R | PTE_X), -E_NOACCESS,
       view0},
      {"a rewrite of a table's view to RW", pt0, 2, LEAF(pt0, rw), -E_PTWRITABLE, view0},
      {"a rewrite of a leaf into a link", pt0, 0, LINK(pg), -E_BADLINK, view0},
  };
  for (unsigned i = 0; i < sizeof(list) / sizeof(list[0]); i++)
    attack(list[i]);
  long s = spawn_child("stranger", stranger);
  check("spawn a stranger", s > 0, 1);
  run_child(s);
  printf("t_bind: %d attacks refused\n", attacks);
}

// ---------------------------------------------------------------- reverse map

static void run_rmap(void)
{
  long p = sys_page_alloc(0, 0, PG_USER);
  check("a new page has no mappings", PAGEINFO(p)->mapcount, 0);
  for (int i = 0; i < 8; i++)
    sys_pte_write(pt0, 16 + i, LEAF(p, PTE_R));
  check("eight mappings are counted", PAGEINFO(p)->mapcount, 8);
  check("remove one in the middle", sys_pte_write(pt0, 19, 0), 0);
  check("... counted", PAGEINFO(p)->mapcount, 7);
  check("remove the first and the last", sys_pte_write(pt0, 16, 0) | sys_pte_write(pt0, 23, 0), 0);
  check("... counted", PAGEINFO(p)->mapcount, 5);
  kcheck("removing mappings");
  check("rewrite one entry to another page", sys_pte_write(pt0, 17, LEAF(pg, PTE_R)), 0);
  check("... the counts follow",
        PAGEINFO(p)->mapcount == 4 && PAGEINFO(pg)->mapcount == 2, 1);
  kcheck("moving a mapping");
  check("the child maps a page it granted us too", sys_pte_write(cpt0, 2, LEAF(granted, PTE_R)), 0);
  check("withdraw the grant", sys_page_grant(granted, me, 0), 0);
  check("withdrawal broke our mapping, not the owner's",
        PAGEINFO(granted)->mapcount == 1 && view0[3] == 0, 1);
  kcheck("withdrawal");
  check("free a page mapped four times", sys_page_free(p), 0);
  check("freeing broke every mapping",
        PAGEINFO(p)->mapcount == 0 && view0[18] == 0 && view0[20] == 0 && view0[22] == 0, 1);
  kcheck("freeing a mapped page");
  check("destroy the child", sys_env_destroy(child), 0);
  check("its pages are free",
        PAGEINFO(cpage)->type == PG_FREE && PAGEINFO(croot)->type == PG_FREE, 1);
  kcheck("destroying the child");
  check("unmap our page", sys_pte_write(pt0, 17, 0) | sys_pte_write(pt0, 0, 0), 0);
  check("free our page and spare tables",
        sys_page_free(pg) | sys_page_free(spare0) | sys_page_free(spare1), 0);
  check("tear down the views and tables", aspace_teardown(&self), 0);
  check("no page leaked", SYSINFO->nfree, free0);
  kcheck("cleanup");
}

int main(int argc, char **argv)
{
  const char *group = argc > 1 ? argv[1] : "";
  if (strcmp(group, "use") != 0 && strcmp(group, "attacks") != 0 && strcmp(group, "rmap") != 0) {
    printf("usage: t_bind use|attacks|rmap\n");
    exit(2);
  }
  free0 = SYSINFO->nfree;
  setup();
  if (strcmp(group, "use") == 0)
    run_use();
  else if (strcmp(group, "attacks") == 0)
    run_attacks();
  else
    run_rmap();
  finish("t_bind");
}
