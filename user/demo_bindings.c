// demo_bindings: secure bindings, live (demo bindings). A library OS
// builds its own page tables by asking the kernel to write one entry at a
// time, naming the table page and the slot; the kernel checks each write
// in O(1) against the rules at the top of kernel/pte.c and refuses, with
// the rule's own error, any that would reach what the program does not
// own. This program makes one proper write, then a row of hostile ones,
// each printed with the kernel's answer; then it asks the kernel to check
// its own invariants (kcheck). Runs from the shell or first. Under the
// view pace (demo_bindings -v, user/demo.h) it then maps the victim's page
// in the victim's own tables and holds, the victim alive, so that the
// live view shows both address spaces and the page map.

#include "user/tsupport.h"
#include "user/demo.h"

#define LEAF(ppn, perm)                                                                            \
  (PA2PTE((unsigned long)(ppn) << 12) | (perm) | PTE_U | PTE_V | PTE_A | PTE_D)
#define REGION 0x2100000000UL  // root entry 132: empty in an ExOS program

#define ERROR_NAME(n, name, text) [n] = #name,
static const char *const error_names[] = {ERROR_LIST(ERROR_NAME)};

struct attempt {
  const char *what;
  long table;
  unsigned long index, pte;
};

// Ask for one write; print it and the kernel's answer. Returns 1 if it
// was refused.
static int try(const struct attempt *a)
{
  long err = sys_pte_write(a->table, a->index, a->pte);
  if (err == 0) {
    printf("  %-50s ACCEPTED (it should not be)\n", a->what);
    return 0;
  }
  printf("  %-50s refused: %s: %s\n", a->what,
         -err < NERRORS && error_names[-err] ? error_names[-err] : "?", exos_strerror(err));
  return 1;
}

// Set up a table, a page and a child to aim at; make the proper write and
// the hostile ones; check. Exits 0 if every hostile write was refused, the
// page kept its contents and kcheck passed.
int main(int argc, char **argv)
{
  pace_args(&argc, &argv);
  printf("bindings: ExOS writes its own page tables, one entry at a time: it names the table\n"
         "bindings: page and the slot, and the kernel checks the write before making it.\n"
         "bindings: a proper write first, then hostile ones, each with the kernel's answer:\n");
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);
  long pt0 = aspace_pt0(&self, REGION), pt1 = self.pt1[0].ppn;
  long pg = sys_page_alloc(0, 0, PG_USER), child = sys_env_create("victim");
  long cpage = child > 0 ? sys_page_alloc(child, 0, PG_USER) : child;
  long parent_root = ENVINFO(ENVINFO(me)->parent_id)->root_ppn;
  if (pt0 < 0 || pg < 0 || cpage < 0) {
    printf("bindings: verdict: FAILED: cannot set up (%s)\n", exos_strerror(pt0 < 0  ? pt0
                                                                            : pg < 0 ? pg
                                                                                     : cpage));
    return 1;
  }
  long err = sys_pte_write(pt0, 0, LEAF(pg, PTE_R | PTE_W));
  *(volatile unsigned long *)REGION = 42;
  printf("  %-50s %s\n", "map our own page read-write",
         err == 0 ? "made: the page is ours" : "REFUSED");
  unsigned long r = PTE_R, rw = PTE_R | PTE_W;
  const struct attempt attempts[] = {
      {"map a kernel page (the kernel's code)", pt0, 1, LEAF(0x80200, PTE_R | PTE_X)},
      {"map the UART's registers", pt0, 1, LEAF(0x10000, rw)},
      {"map another environment's page", pt0, 1, LEAF(cpage, r)},
      {"map our own page table writable", pt0, 1, LEAF(pt0, rw)},
      {"map our own page without U (a kernel mapping)", pt0, 1, LEAF(pg, r) & ~PTE_U},
      {"map our own page writable but not readable", pt0, 1, LEAF(pg, PTE_W)},
      {"a 2 MiB superpage in a level-1 table", pt1, 7, LEAF(pg, r)},
      {"write into the kernel's half of our root", self.root, 256, 0},
      {"write into a data page as if a table", pg, 0, 0},
      {"write into our parent's root table", parent_root, 140, 0},
  };
  int n = sizeof(attempts) / sizeof(attempts[0]), refused = 0;
  for (int i = 0; i < n; i++)
    refused += try(&attempts[i]);
  int kept = *(volatile unsigned long *)REGION == 42;
  long kc = sys_kcheck();
  printf("bindings: our page still holds what we stored: %s; kcheck: %s\n", kept ? "yes" : "NO",
         kc == 0 ? "OK, the kernel's invariants hold" : exos_strerror(kc));
  if (pace) {
    struct aspace victim;
    aspace_init(&victim, child);
    long mapped = aspace_map(&victim, REGION, cpage, PTE_R | PTE_W);
    char what[120];
    snprintf(what, sizeof(what), "our page %lx at %lx; the victim (%lx) %s its page %lx there",
             pg, REGION, child, mapped == 0 ? "maps" : "could not map", cpage);
    pace_hold("bindings", what);
    aspace_teardown(&victim);
  }
  sys_pte_write(pt0, 0, 0);
  sys_page_free(pg);
  sys_env_destroy(child);
  aspace_teardown(&self);
  int ok = refused == n && kept && kc == 0 && err == 0;
  printf("bindings: verdict: %d of %d hostile writes refused, kcheck %s\n", refused, n,
         kc == 0 ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
