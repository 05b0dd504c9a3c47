// t_fork: ExOS's fork with copy-on-write, exit status, wait and kill.

#include "user/tsupport.h"
#include "ulib/exos.h"

static volatile long shared_value = 1;
static char big[3 * 4096];  // data pages: the child gets private copies

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
  kcheck("fork");

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
    int status = 0;
    waitpid(grandchild, &status);
    exit(status == -1 ? 9 : 1);
  }
  while (*shared != 7)
    sys_yield(0);
  check("a shared page reaches a grandchild (a grant passed on)", *shared, 7);
  check("... mapped by all three", PAGEINFO(ppn)->mapcount, 3);
  check("withdraw the child's grant", sys_page_grant(ppn, child, 0), 0);
  check("... the grandchild's went with it", PAGEINFO(ppn)->mapcount, 1);
  status = 0;
  waitpid(child, &status);
  check("... and its next access ended it; no grant went up or grew", status, 9);
  kcheck("passed-on grants");

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
  for (int i = 0; i < 1000 && ENVINFO(child)->status == ENV_RUNNABLE; i++)
    sys_yield(child);  // it starts its child and goes to sleep
  check("a child asleep in env_wait cannot run", ENVINFO(child)->status, ENV_NOT_RUNNABLE);
  check("waitpid sleeps until it ends, which is when its child ends",
        waitpid(child, &status) == child && status == 5, 1);
  finish("t_fork");
}
