// t_fork: ExOS's fork with copy-on-write, exit status, wait and kill.

#include "user/tsupport.h"
#include "ulib/exos.h"

static volatile long shared_value = 1;
static char big[3 * 4096];  // data pages: the child gets private copies
static const char read_only[] = "a constant: shared read-only";

// Fork a chain `depth` deep; each process exits with its child's status + 1.
static int tree(int depth)
{
  if (depth == 0)
    return 0;
  int pid = fork();
  if (pid == 0)
    exit(tree(depth - 1));
  int status = -100;
  if (waitpid(pid, &status) != pid)
    return -100;
  return status + 1;
}

// ---------------------------------------------------------------- copy-on-write, page by page

#define COW_X  0x2700000000UL  // two pages the parent owns, shared copy-on-write by fork
#define COW_Y  (COW_X + PGSIZE)
#define STEP   ((volatile long *)0x2701000000UL)  // shared memory: where parent and child are
#define WORDS  (PGSIZE / sizeof(long))

// The pattern of page va (its word i holds seed + i), with word 0 set to first.
static void fill(unsigned long va, long seed, long first)
{
  volatile long *w = (volatile long *)va;
  for (unsigned long i = 0; i < WORDS; i++)
    w[i] = seed + i;
  w[0] = first;
}

// Whether page va still holds fill(va, seed, first)'s pattern.
static int intact(unsigned long va, long seed, long first)
{
  volatile long *w = (volatile long *)va;
  int ok = w[0] == first;
  for (unsigned long i = 1; i < WORDS; i++)
    ok &= w[i] == seed + (long)i;
  return ok;
}

// Wait (giving pid our time) until *STEP is step; 0 if pid ended first or
// two seconds passed.
static int await_step(long step, int pid)
{
  for (unsigned long end = sys_uptime() + MS(2000); *STEP != step && !past(end);)
    if (ENVINFO(pid)->id != (unsigned int)pid)
      return *STEP == step;
    else
      sys_yield(pid);
  return *STEP == step;
}

// What the child of cow_pages() saw: one bit per wrong thing (0: all well).
enum {
  SAW_PARENT_STORE = 1,  // the parent's store to X showed through
  SAW_NO_COPY = 2,       // its own stores did not each make a page of its own
  SAW_LOST_STORE = 4,    // it read back something else than it stored
  SAW_STUCK = 8,         // the parent never reached the next step
  SAW_PARENT_Y = 16,     // the parent's store to Y showed through
};

// The child of cow_pages(): mirror the parent's steps, report in its status.
static void __attribute__((noreturn)) cow_child(int parent, unsigned long x0, unsigned long y0)
{
  int saw = 0;
  if (!await_step(1, parent))
    exit(SAW_STUCK);
  if (!intact(COW_X, 100, 1))  // the parent wrote X: we still map the original
    saw |= SAW_PARENT_STORE;
  unsigned long c0 = exos_cow_copies;
  *(volatile long *)COW_Y = 20;  // not ours: a copy
  *(volatile long *)COW_X = 10;  // not ours either (though we alone map it now): a copy
  if (exos_cow_copies - c0 != 2 || PTE_PPN(vm_pte(COW_X)) == x0 ||
      PTE_PPN(vm_pte(COW_Y)) == y0)
    saw |= SAW_NO_COPY;
  if (!intact(COW_X, 100, 10) || !intact(COW_Y, 200, 20))
    saw |= SAW_LOST_STORE;
  *STEP = 2;
  if (!await_step(3, parent))
    exit(saw | SAW_STUCK);
  if (!intact(COW_Y, 200, 20))  // the parent wrote Y in place: we have our copy
    saw |= SAW_PARENT_Y;
  exit(saw);
}

// Whether the page at va is writable and no longer copy-on-write.
static int plain_writable(unsigned long va)
{
  return (vm_pte(va) & (PTE_W | PTE_COW)) == PTE_W;
}

// Copy-on-write decided page by page from the exported page table: a store
// copies a page while another process maps it, and writes it in place once
// this process owns it and alone maps it; every page ends up writable and
// no longer marked PTE_COW; an original left behind is freed once unmapped.
// Parent and child take turns through a shared page (STEP):
//   0: the parent stores to X (the child maps it too: a copy);
//   1: the child stores to Y and X (neither is its own: copies);
//   2: the parent stores to Y (it alone maps its original now: in place);
//   3: the child checks it still sees its own Y, and exits.
static void cow_pages(void)
{
  if (vm_alloc(COW_X, PTE_R | PTE_W) < 0 || vm_alloc(COW_Y, PTE_R | PTE_W) < 0 ||
      vm_alloc((unsigned long)STEP, PTE_R | PTE_W | PTE_SHARE) < 0) {
    check("map the copy-on-write test pages", 0, 1);
    return;
  }
  fill(COW_X, 100, 1);
  fill(COW_Y, 200, 2);
  *STEP = 0;
  unsigned long x0 = PTE_PPN(vm_pte(COW_X)), y0 = PTE_PPN(vm_pte(COW_Y));
  int parent = getpid(), pid = fork();
  if (pid == 0)
    cow_child(parent, x0, y0);
  check("after fork the child maps X and Y too", PAGEINFO(x0)->mapcount == 2 &&
        PAGEINFO(y0)->mapcount == 2, 1);
  unsigned long c0 = exos_cow_copies;
  *(volatile long *)COW_X = 3;
  check("a store to a page the child maps too copies it (a new page, one copy)",
        PTE_PPN(vm_pte(COW_X)) != x0 && exos_cow_copies - c0 == 1, 1);
  check("... the copy holds the whole page and the store", intact(COW_X, 100, 3), 1);
  check("... the copy is writable and no longer PTE_COW", plain_writable(COW_X), 1);
  *STEP = 1;
  check("the child stored to X and Y", await_step(2, pid), 1);
  check("... so X's original is mapped by nobody, Y's by the parent alone",
        PAGEINFO(x0)->mapcount == 0 && PAGEINFO(y0)->mapcount == 1, 1);
  c0 = exos_cow_copies;
  *(volatile long *)COW_Y = 4;
  check("a store to a page that is ours and that we alone map writes it in place (no copy)",
        PTE_PPN(vm_pte(COW_Y)) == y0 && exos_cow_copies == c0, 1);
  check("... it keeps the page and the store", intact(COW_Y, 200, 4), 1);
  check("... it is writable and no longer PTE_COW", plain_writable(COW_Y), 1);
  *STEP = 3;
  int saw = -1;
  waitpid(pid, &saw);
  check("the child ran to its end (no fault ended it)", saw >= 0, 1);
  saw = saw < 0 ? 0 : saw;
  check("the child never saw the parent's store to X", saw & SAW_PARENT_STORE, 0);
  check("the child's stores to pages it does not own made a copy each", saw & SAW_NO_COPY, 0);
  check("the child read back what it stored", saw & SAW_LOST_STORE, 0);
  check("the child never saw the parent's store to Y", saw & SAW_PARENT_Y, 0);
  check("the child and the parent took their turns", saw & SAW_STUCK, 0);
  check("the original left behind by a copy is freed once nobody maps it",
        PAGEINFO(x0)->owner != (unsigned int)parent, 1);
  unsigned long pages[3] = {COW_X, COW_Y, (unsigned long)STEP};
  for (int i = 0; i < 3; i++) {
    long ppn = PTE_PPN(vm_pte(pages[i]));
    vm_unmap(pages[i]);
    sys_page_free(ppn);
  }
}

int main(int argc, char **argv)
{
  // Private copies of data, and of the stack and heap through copy-on-write.
  char *heap = malloc(64);
  strlcpy(heap, "parent", 64);
  volatile long on_stack = 10;
  int pid = fork();
  if (pid == 0) {
    shared_value = 2;
    on_stack = 20;
    big[0] = 1;  // data: the child's own copy already
    unsigned long before = exos_cow_copies;
    ((volatile char *)heap)[10] = 'x';  // the first store to this heap page copies it
    unsigned long after_first = exos_cow_copies;
    ((volatile char *)heap)[11] = 'y';  // the same page again: no second copy
    strlcpy(heap, "child", 64);
    exit(shared_value == 2 && on_stack == 20 && strcmp(heap, "child") == 0 &&
                 after_first - before == 1 && exos_cow_copies == after_first
             ? 7
             : 1);
  }
  check("fork returns the child's pid", pid > 0, 1);  // (it may have ended already)
  int status = 0;
  check("wait returns the child", wait(&status), pid);
  check("the child saw its own copies, copying a page once (exit 7)", status, 7);
  check("the parent's data is untouched", shared_value, 1);
  check("the parent's stack is untouched", on_stack, 10);
  check("the parent's heap is untouched", strcmp(heap, "parent"), 0);
  check("waiting with no children", wait(&status), -1);

  // Read-only pages reach the child read-only: a store to its text or its
  // constants must end it, not be made writable as copy-on-write.
  if ((pid = fork()) == 0)
    exit((vm_pte((unsigned long)main) & (PTE_W | PTE_COW)) != 0       ? 21
         : (vm_pte((unsigned long)read_only) & (PTE_W | PTE_COW)) != 0 ? 22
                                                                        : 0);
  check("the child's text and constants are read-only, not PTE_COW",
        waitpid(pid, &status) == pid ? status : -1, 0);
  kcheck("fork");
  stop_if_failed("t_fork");

  cow_pages();
  kcheck("copy-on-write pages");
  stop_if_failed("t_fork");

  // Exit statuses.
  int pids[5];
  for (int i = 0; i < 5; i++)
    if ((pids[i] = fork()) == 0)
      exit(40 + i);
  int ok = 1;
  for (int i = 4; i >= 0; i--)
    ok &= waitpid(pids[i], &status) == pids[i] && status == 40 + i;
  check("five children, five exit statuses", ok, 1);

  // A tree 4 deep.
  check("a fork tree four deep", tree(4), 4);
  kcheck("fork tree");
  stop_if_failed("t_fork");

  // kill.
  pid = fork();
  if (pid == 0)
    for (;;)
      sys_yield(0);
  check("kill a child", kill(pid), 0);
  check("a killed child's status is -1", waitpid(pid, &status) == pid && status == -1, 1);
  check("kill nobody refused", kill(0x7fffff), -1);

  // 100 fork/exit/wait cycles leak nothing.
  if ((pid = fork()) == 0)
    exit(0);
  wait(&status);  // warm up: ExOS's own tables for status pages exist now
  unsigned long free0 = SYSINFO->nfree;
  for (int i = 0; i < 100; i++) {
    if ((pid = fork()) == 0)
      exit(i & 0x7f);
    if (pid < 0 || waitpid(pid, &status) != pid || status != (i & 0x7f)) {
      check("100 fork/exit/wait cycles", i, 100);
      break;
    }
  }
  check("no page leaked by 100 fork/exit/wait cycles", SYSINFO->nfree, free0);
  kcheck("100 cycles");
  stop_if_failed("t_fork");

  // Shared memory reaches a grandchild: its parent passes on the grant it
  // holds. Withdrawing the child's grant withdraws the grandchild's too.
  volatile long *shared = (volatile long *)0x2600000000UL;
  long ppn = vm_alloc((unsigned long)shared, PTE_R | PTE_W | PTE_SHARE);
  int child = fork();
  if (child == 0) {
    int grandchild = fork();
    if (grandchild == 0) {
      *shared = 7;
      while (*shared != 8)  // faults once the grant is gone: the end of it
        sys_yield(0);
      exit(0);
    }
    if (sys_page_grant(ppn, ENVINFO(getpid())->parent_id, GRANT_R) != -E_PERM)
      exit(2);  // passing a grant up (or sideways) is refused
    if (sys_page_grant(ppn, grandchild, GRANT_R | GRANT_W | GRANT_X) != -E_PERM)
      exit(3);  // so is passing on more rights than it holds
    while (*shared != 7)  // the grandchild has written
      sys_yield(0);
    *shared = 9;  // both refused: its grant may go now (on several harts, not sooner)
    int status = 0;
    waitpid(grandchild, &status);
    exit(status == -1 ? 9 : 1);
  }
  for (unsigned long end = sys_uptime() + MS(2000);
       *shared != 9 && ENVINFO(child)->id == (unsigned int)child && !past(end);)
    sys_yield(0);
  check("a shared page reaches a grandchild (a grant passed on), the child saw it", *shared, 9);
  check("... mapped by all three", PAGEINFO(ppn)->mapcount, 3);
  check("withdraw the child's grant", sys_page_grant(ppn, child, 0), 0);
  check("... the grandchild's went with it", PAGEINFO(ppn)->mapcount, 1);
  status = 0;
  waitpid(child, &status);
  check("... and its next access ended it; no grant went up or grew", status, 9);
  kcheck("passed-on grants");
  stop_if_failed("t_fork");

  // env_wait, what waitpid sleeps in when the child cannot run.
  check("env_wait for itself refused", sys_env_wait(getpid(), 0), -E_PERM);
  check("env_wait for a process that is not a child refused",
        sys_env_wait(ENVINFO(getpid())->parent_id ? ENVINFO(getpid())->parent_id : 0x100, 0),
        -E_PERM);
  check("env_wait for a process that is gone returns at once", sys_env_wait(0x7fff00, 0), 0);
  check("env_wait for any child, with none, returns at once", sys_env_wait(0, 0), 0);
  check("env_wait with unknown flags refused", sys_env_wait(0, 2), -E_INVAL);
  // A child that sleeps until its own child ends: both sleeps end in turn.
  child = fork();
  if (child == 0) {
    int grandchild = fork();
    if (grandchild == 0) {
      unsigned long end = sys_uptime() + SYSINFO->timebase_hz / 20;
      while ((unsigned long)sys_uptime() < end)
        sys_yield(0);
      exit(0);
    }
    exit(sys_env_wait(grandchild, 0) == 0 && ENVINFO(grandchild)->id != (unsigned int)grandchild
             ? 5
             : 1);
  }
  for (unsigned long end = sys_uptime() + MS(2000);
       ENVINFO(child)->status == ENV_RUNNABLE && !past(end);)
    sys_yield(child);  // it starts its child and goes to sleep
  check("a child asleep in env_wait cannot run", ENVINFO(child)->status, ENV_NOT_RUNNABLE);
  check("waitpid sleeps until it ends, which is when its child ends",
        waitpid(child, &status) == child && status == 5, 1);
  finish("t_fork");
}
