// t_spawn: ExOS's spawn (and exec) of programs from the file system, with
// arguments and exit status. Run as `t_spawn`; it spawns itself as
// `t_spawn child ARGS...`, whose exit status tells what it saw.

#include "user/tsupport.h"
#include "ulib/exos.h"

// The child: exit with 40 + argc if argv is what the parent passed, else 1.
static int child(int argc, char **argv)
{
  static char bss_page[8192];  // bss spanning pages: must start zeroed
  static int data_word = 1234;
  int ok = argc == 4 && strcmp(argv[0], "t_spawn") == 0 && strcmp(argv[2], "two words") == 0 &&
           strcmp(argv[3], "") == 0 && argv[4] == NULL && ((unsigned long)argv & 15) == 0;
  for (int i = 0; i < (int)sizeof(bss_page); i++)
    ok = ok && bss_page[i] == 0;
  ok = ok && data_word == 1234;
  char *heap = malloc(100000);  // the heap grows lazily in a spawned program too
  heap[99999] = 1;
  return ok ? 40 + argc : 1;
}

// A child that waits to be killed.
static int __attribute__((noreturn)) sleeper(void)
{
  for (;;)
    sys_yield(0);
}

// A decimal number.
static long number(const char *s)
{
  long n = 0;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + *s++ - '0';
  return n;
}

// The program after exec: exit 50 if it kept the pid the old one had, and
// the old program's 1 MiB heap was freed (the free count is back near what
// it was before the heap grew, give or take the 32 pages the images may
// differ by, such as the text a forked child shared and exec's copy owns).
static int execd(int argc, char **argv)
{
  if (argc != 4 || getpid() != number(argv[2]))
    return 2;
  return SYSINFO->nfree + 32 >= (unsigned long)number(argv[3]) ? 50 : 6;
}

// A forked child that grows its heap and stack, then execs.
static int exec_child(void)
{
  char pid[16], nfree[24];
  snprintf(nfree, sizeof(nfree), "%lu", SYSINFO->nfree);
  volatile char *heap = malloc(1 << 20);
  for (int i = 0; i < (1 << 20); i += 4096)
    heap[i] = 1;
  snprintf(pid, sizeof(pid), "%d", getpid());
  char *args[] = {"t_spawn", "execd", pid, nfree, NULL};
  char *none[] = {"x", NULL};
  if (exec("/no-such-program", none) != -E_NOTFOUND || exec("/README.md", none) != -E_NOEXEC)
    return 3;  // a failed exec returns, with the program intact
  exec("/t_spawn", args);
  return 4;
}

#define VERDICT ((volatile long *)0x2500000000UL)  // shared memory: [0] the verdict, [1] a pid

// The grandchild of exec_keeps_shared: wait until its parent (which execs
// echo) is gone, then check the heap page it was forked with.
static void __attribute__((noreturn)) check_inherited(unsigned int parent, volatile long *h)
{
  VERDICT[1] = getpid();
  while (ENVINFO(parent)->id == parent)
    sys_yield(0);
  int ok = 1;
  for (unsigned long i = 0; i < PGSIZE / sizeof(long); i++)
    ok &= h[i] == (long)(i * 7);
  VERDICT[0] = ok ? 1 : 2;
  exit(0);
}

// A process that owns a page a forked child still maps, and then execs:
// exec frees only what the old program alone mapped, so the child keeps
// the page. Returns the grandchild's verdict: 1 if its page was intact.
static long exec_keeps_shared(void)
{
  if (vm_alloc((unsigned long)VERDICT, PTE_R | PTE_W | PTE_SHARE) < 0)
    return -1;
  VERDICT[0] = VERDICT[1] = 0;
  int pid = fork(), status;
  if (pid == 0) {
    volatile long *h = malloc(2 * PGSIZE);  // fresh heap: a page of this process's own
    h = (volatile long *)PGROUNDUP((unsigned long)h);
    for (unsigned long i = 0; i < PGSIZE / sizeof(long); i++)
      h[i] = i * 7;
    unsigned int self = getpid();
    if (fork() == 0)
      check_inherited(self, h);
    char *args[] = {"echo", "exec leaves a forked child its pages", NULL};
    exec("echo", args);
    exit(5);
  }
  waitpid(pid, &status);
  for (unsigned long end = sys_uptime() + MS(2000); VERDICT[0] == 0 && !past(end);)
    sys_yield(0);
  if (VERDICT[1] != 0)
    sys_env_wait(VERDICT[1], 0);  // ours now that its parent is gone
  long verdict = VERDICT[0];
  long ppn = PTE_PPN(vm_pte((unsigned long)VERDICT));
  vm_unmap((unsigned long)VERDICT);
  sys_page_free(ppn);
  return verdict;
}

int main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "child") == 0)
    return child(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "execd") == 0)
    return execd(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "sleep") == 0)
    return sleeper();
  check("the first program gets argc 1", argc, 1);
  check("... and argv[0] its name", strcmp(argv[0], "t_spawn"), 0);

  char *args[] = {"t_spawn", "child", "two words", "", NULL};
  int pid = spawn("/t_spawn", args), status = -1;
  check("spawn returns a pid", pid > 0, 1);
  check("wait returns it", waitpid(pid, &status), pid);
  check("the child saw its arguments, data and zeroed bss", status, 44);

  char *echo[] = {"echo", "hello", "from", "echo", NULL};
  pid = spawn("echo", echo);
  check("spawn echo (a path without /)", pid > 0 && waitpid(pid, &status) == pid, 1);
  check("echo exits 0", status, 0);

  char *none[] = {"x", NULL};
  check("a missing program: E_NOTFOUND", spawn("/no-such-program", none), -E_NOTFOUND);
  check("a text file: E_NOEXEC", spawn("/README.md", none), -E_NOEXEC);
  check("the root directory: E_NOEXEC", spawn("/", none), -E_NOEXEC);
  check("a path through a file: E_NOTDIR", spawn("/echo/x", none), -E_NOTDIR);
  static char longarg[5000];
  memset(longarg, 'a', sizeof(longarg) - 1);
  char *toolong[] = {"echo", longarg, NULL};
  check("arguments over a page: E_2BIG", spawn("/echo", toolong), -E_2BIG);
  check("E_NOTFOUND has a message", strcmp(exos_strerror(-E_NOTFOUND), "no such file or directory"),
        0);

  char *sl[] = {"t_spawn", "sleep", NULL};
  pid = spawn("t_spawn", sl);
  check("kill a spawned child", pid > 0 && kill(pid) == 0, 1);
  check("wait reports it killed", waitpid(pid, &status) == pid && status == -1, 1);

  // No page leaks: a second round of spawns frees what the first took.
  for (int i = 0; i < 3; i++)
    if ((pid = spawn("/t_spawn", args)) > 0)
      waitpid(pid, &status);
  unsigned long free0 = SYSINFO->nfree;
  for (int i = 0; i < 20; i++)
    if ((pid = spawn("/t_spawn", args)) > 0)
      waitpid(pid, &status);
  check("20 spawn/wait leave the free count as it was", SYSINFO->nfree, free0);
  kcheck("spawn");

  // exec: the same process runs another program.
  pid = fork();
  if (pid == 0)
    exit(exec_child());
  status = -1;
  waitpid(pid, &status);
  check("exec keeps the pid, frees the old program's 1 MiB heap; failed execs return", status, 50);
  pid = fork();
  if (pid == 0) {
    char *args[] = {"echo", "echo", "after", "exec", NULL};
    exec("echo", args);
    exit(5);
  }
  check("exec echo", waitpid(pid, &status) == pid && status == 0, 1);
  check("exec frees no page a forked child still maps", exec_keeps_shared(), 1);
  kcheck("exec");
  finish("t_spawn");
}
