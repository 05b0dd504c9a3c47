// t_disk: the disk's block-range bindings and asynchronous I/O, used
// properly and attacked.

#include "user/tsupport.h"

#define BUF     0x2300000000UL  // data pages, mapped here one after another
#define PAGE(i) ((volatile unsigned char *)(BUF + (i)*PGSIZE))

static long pages[8];
static long parent_req;

// Fill mapped page i with a pattern for block b.
static void fill(int i, unsigned long b)
{
  for (unsigned long k = 0; k < PGSIZE; k++)
    PAGE(i)[k] = (unsigned char)(k * 7 + b);
}

// Does mapped page i hold the pattern for block b?
static int holds_pattern(int i, unsigned long b)
{
  for (unsigned long k = 0; k < PGSIZE; k++)
    if (PAGE(i)[k] != (unsigned char)(k * 7 + b))
      return 0;
  return 1;
}

// A child bound to blocks [100, 110): works inside the range, not outside.
static void bound_child(void)
{
  struct aspace as;
  aspace_init(&as, sys_getenvid());
  long pg = sys_page_alloc(0, 0, PG_USER);
  long r = sys_disk_io(105, pg, 1);
  check("child: write inside its range", r >= 0 && sys_disk_wait(r) == 0, 1);
  check("child: block 110 outside its range refused", sys_disk_io(110, pg, 0), -E_NOBINDING);
  check("child: block 99 outside its range refused", sys_disk_io(99, pg, 0), -E_NOBINDING);
  check("child: bind a range it does not hold refused", sys_disk_bind(sys_getenvid(), 0, 5),
        -E_NOBINDING);
  check("child: read into its parent's page refused", sys_disk_io(105, pages[0], 0), -E_NOACCESS);
  check("child: status of its parent's request refused", sys_disk_status(parent_req), -E_PERM);
}

// A child that leaves requests in flight and exits.
static void abandoning_child(void)
{
  for (int i = 0; i < 4; i++)
    sys_disk_io(200 + i, sys_page_alloc(0, 0, PG_USER), 0);
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);
  check("a disk of at least 512 blocks", SYSINFO->disk_blocks >= 512, 1);
  for (int i = 0; i < 8; i++) {
    pages[i] = sys_page_alloc(0, 0, PG_USER);
    if (aspace_map(&self, BUF + i * PGSIZE, pages[i], PTE_R | PTE_W) < 0)
      check("map the data pages", i, 8);
  }

  // Write a block, read it back into another page.
  fill(0, 10);
  long r = sys_disk_io(10, pages[0], 1);
  check("start a write", r >= 0, 1);
  check("wait for it", sys_disk_wait(r), 0);
  r = sys_disk_io(10, pages[1], 0);
  check("start a read", r >= 0, 1);
  check("wait for it", sys_disk_wait(r), 0);
  check("the block came back", holds_pattern(1, 10), 1);

  // Several requests in flight at once.
  long reqs[4];
  for (int i = 0; i < 4; i++) {
    fill(i, 20 + i);
    reqs[i] = sys_disk_io(20 + i, pages[i], 1);
  }
  int ok = 1;
  for (int i = 0; i < 4; i++)
    ok &= reqs[i] >= 0 && sys_disk_wait(reqs[i]) == 0;
  check("four writes in flight", ok, 1);
  for (int i = 0; i < 4; i++)
    reqs[i] = sys_disk_io(20 + i, pages[4 + i], 0);
  ok = 1;
  for (int i = 0; i < 4; i++)
    ok &= reqs[i] >= 0 && sys_disk_wait(reqs[i]) == 0 && holds_pattern(4 + i, 20 + i);
  check("four reads in flight return their blocks", ok, 1);

  // Polling, and pinning.
  r = sys_disk_io(30, pages[0], 1);
  check("free a page with a request outstanding refused", sys_page_free(pages[0]), -E_BUSY);
  long s;
  while ((s = sys_disk_status(r)) == 1)
    ;
  check("polled request finished", s, 0);
  check("its number is free again", sys_disk_status(r), -E_PERM);
  check("wait on a free request number refused", sys_disk_wait(r), -E_PERM);
  check("status of request 99 refused", sys_disk_status(99), -E_PERM);
  kcheck("I/O");

  // Bad arguments.
  check("block past the disk refused", sys_disk_io(SYSINFO->disk_blocks, pages[0], 0), -E_INVAL);
  check("huge block refused", sys_disk_io(-1UL, pages[0], 0), -E_INVAL);
  check("direction 2 refused", sys_disk_io(1, pages[0], 2), -E_INVAL);
  check("kernel page refused", sys_disk_io(1, 0x80200, 0), -E_NOACCESS);
  check("own page-table page refused", sys_disk_io(1, self.pt0[0].ppn, 0), -E_NOACCESS);
  check("page outside RAM refused", sys_disk_io(1, 0x10000, 0), -E_BADPPN);
  unsigned long freepg = SYSINFO->base_ppn + SYSINFO->npages - 1;
  while (PAGEINFO(freepg)->type != PG_FREE)
    freepg--;
  check("free page refused", sys_disk_io(1, freepg, 0), -E_NOACCESS);
  kcheck("bad arguments");

  // Bindings.
  fill(3, 105);  // a pattern the child's write (a zeroed page) will replace
  r = sys_disk_io(105, pages[3], 1);
  check("write a pattern to block 105", r >= 0 && sys_disk_wait(r) == 0, 1);
  long c = spawn_child("bound", bound_child);
  check("bind blocks [100, 110) to a child", sys_disk_bind(c, 100, 10), 0);
  check("bind past the disk refused", sys_disk_bind(c, SYSINFO->disk_blocks - 50, 100), -E_INVAL);
  check("bind a wrapping range refused", sys_disk_bind(c, -1UL, 2), -E_INVAL);
  check("bind an empty range refused", sys_disk_bind(c, 5, 0), -E_INVAL);
  check("bind to nobody refused", sys_disk_bind(0x7fffff, 0, 1), -E_BADENV);
  parent_req = sys_disk_io(40, pages[2], 0);  // left uncollected while the child runs
  run_child(c);
  check("collect the parent's request", sys_disk_wait(parent_req), 0);
  r = sys_disk_io(105, pages[3], 0);
  check("the child's write replaced the pattern",
        r >= 0 && sys_disk_wait(r) == 0 && PAGE(3)[0] == 0 && PAGE(3)[PGSIZE - 1] == 0, 1);
  c = sys_env_create("unbound");
  check("bind to a fresh child", sys_disk_bind(c, 100, 10), 0);
  check("unbind it", sys_disk_unbind(c, 100, 10), 0);
  check("unbind it again refused", sys_disk_unbind(c, 100, 10), -E_NOBINDING);
  long childpg = sys_page_alloc(c, 0, PG_USER);
  r = sys_disk_io(105, childpg, 0);
  check("read into a child's page (a loader's way)", r >= 0 && sys_disk_wait(r) == 0, 1);
  sys_env_destroy(c);
  kcheck("bindings");

  // A child destroyed with requests in flight leaks nothing.
  unsigned long free0 = SYSINFO->nfree;
  c = spawn_child("abandon", abandoning_child);
  sys_disk_bind(c, 200, 4);
  run_child(c);
  check("no page leaked by abandoned requests", SYSINFO->nfree, free0);
  kcheck("abandoned requests");
  check("tear down scratch tables", aspace_teardown(&self), 0);
  finish("t_disk");
}
