// t_orphan: a forked child whose parent exits keeps running with all its
// memory, before and after it calls exec, and once it ends every page and
// environment slot comes back. 400 times: this program forks a middle
// process, which forks a grandchild and exits at once; the grandchild waits
// until its parent is gone (it then belongs to this program, abi.h
// "Lifecycles"), checks the memory it inherited copy-on-write, writes it,
// and ends; every 40th execs echo instead.

#include "user/tsupport.h"

#define ROUNDS     400  // 800 environments made: each slot of 256 used three times over
#define EXEC_EVERY 40
#define HEAP_WORDS 4096  // 32 KiB of heap, filled before the forks

static unsigned long *heap;
static unsigned int server;  // this program's child before any round: the file server

// The sum of the heap words and a stack array, as the middle process left them.
static unsigned long checksum(const unsigned long *stack)
{
  unsigned long sum = 0;
  for (int i = 0; i < HEAP_WORDS; i++)
    sum = sum * 31 + heap[i];
  for (int i = 0; i < 64; i++)
    sum = sum * 31 + stack[i];
  return sum;
}

// The grandchild's verdict: nothing when all is well, else a FAIL line
// (the grader forbids them); then it ends.
static void verdict(int round, const char *what)
{
  if (what != NULL)
    printf("t_orphan: round %d: FAIL: %s\n", round, what);
  exit(what != NULL);
}

// The grandchild of round r: wait until the middle process mid (its
// parent; it may be gone already) is gone, then check and write what it inherited.
static void grandchild(int round, unsigned int top, unsigned int mid, unsigned long want,
                       const unsigned long *stack)
{
  unsigned int me = getpid();
  while (ENVINFO(me)->parent_id == mid)
    sys_yield(0);
  if (ENVINFO(me)->parent_id != top)
    verdict(round, "not handed to the top program when its parent died");
  if (checksum(stack) != want)
    verdict(round, "its memory changed when its parent died");
  for (int i = 0; i < HEAP_WORDS; i += 512)
    heap[i] = round;  // copy-on-write from a page nobody owns any more
  if (round % EXEC_EVERY == 0) {
    char *argv[] = {"echo", "orphan", "after", "exec", NULL};
    exec("echo", argv);
    verdict(round, "exec failed");
  }
  verdict(round, heap[0] == (unsigned long)round ? NULL : "a write to its heap was lost");
}

// Count the environments in use.
static int envs_in_use(void)
{
  int n = 0;
  for (unsigned long i = 0; i < SYSINFO->nenv; i++)
    n += ENVINFO(i)->status != ENV_FREE;
  return n;
}

// One round: fork the middle process, which forks the grandchild and exits.
// Returns the number of grandchildren that failed their check.
static int one_round(int round)
{
  unsigned int top = getpid();
  unsigned long stack[64];
  for (int i = 0; i < 64; i++)
    stack[i] = round * 1000 + i;
  for (int i = 0; i < HEAP_WORDS; i++)
    heap[i] = round + i;
  unsigned long want = checksum(stack);
  int mid = fork();
  if (mid == 0) {
    unsigned int self = getpid();
    if (fork() == 0)
      grandchild(round, top, self, want, stack);
    exit(0);
  }
  int status = -1;
  waitpid(mid, &status);
  // The grandchild is this program's now; the kernel says when it ends.
  int bad = 0;
  for (unsigned long i = 0; i < SYSINFO->nenv; i++) {
    const struct env_info *e = ENVINFO(i);
    if (e->status != ENV_FREE && e->parent_id == top && e->id != server) {
      unsigned int id = e->id;
      sys_env_wait(id, 0);
      bad += ENVINFO(id)->id == id;  // still there: it did not end
    }
  }
  return bad + (status != 0);
}

int main(int argc, char **argv)
{
  heap = malloc(HEAP_WORDS * sizeof(unsigned long));
  // Start the file server now, as init does at boot: the orphans that exec
  // find it through what fork handed down.
  check("the file server runs", fs_server(0) != 0, 1);
  for (unsigned long i = 0; i < SYSINFO->nenv; i++)
    if (ENVINFO(i)->status != ENV_FREE && ENVINFO(i)->parent_id == (unsigned int)getpid())
      server = ENVINFO(i)->id;
  one_round(0);  // the first round sets up what every later one reuses
  unsigned long free0 = SYSINFO->nfree;
  int envs0 = envs_in_use(), bad = 0, done = 0;
  for (int r = 1; r <= ROUNDS && bad == 0; r++, done++)
    bad += one_round(r);
  printf("%d orphaned grandchildren ran to their end\n", done);
  check("orphans keep their memory and end well", bad, 0);
  check("every page came back", SYSINFO->nfree, free0);
  check("every environment slot came back", envs_in_use(), envs0);
  kcheck("400 orphans");
  finish("t_orphan");
}
