// t_pipestress: a pipe gives end of file only when every writer has closed
// it, however the processes holding its ends are scheduled: many rounds of
// a forked child writing to its parent and exiting, then a prime sieve
// over a chain of 60 forked processes, each reading its neighbour's pipe
// to the end, run a few times. A reader that sees the end too early loses
// bytes (a short round) or primes (a short chain). Then several writers
// and several readers share one pipe at once: every record written arrives
// whole, exactly once.

#include "user/tsupport.h"
#include "ulib/exos.h"

#define ROUNDS  100
#define SIEVES  3
#define NPRIMES 60  // the primes below 282: one process of the chain each
#define LIMIT   282

// Read exactly n bytes from fd unless the end comes first. Returns the
// bytes read.
static long read_full(int fd, void *buf, long n)
{
  long got = 0, r;
  while (got < n && (r = read(fd, (char *)buf + got, n - got)) > 0)
    got += r;
  return got;
}

// A page this process shares with its children: the hook's word to the
// writer of last_words.
#define SHARED_VA 0x2000000000UL
#define GO        (*(volatile int *)SHARED_VA)

// The reader's hook (exos_pipe_looking): once, when the reader looks for
// live writers, let its writer write its last bytes and exit, then go on.
static void writer_finishes_now(void)
{
  exos_pipe_looking = NULL;
  GO = 1;
  while (wait(NULL) > 0)
    ;
}

// The reader finds the pipe empty and looks for writers; just then (the
// hook) the last writer writes and exits. Returns 1 if the reader still
// got the bytes, then the end of the file.
static int last_words(void)
{
  int p[2];
  char buf[32];
  long shared = vm_alloc(SHARED_VA, PTE_R | PTE_W | PTE_SHARE);
  if (shared < 0 || pipe(p) < 0)
    return 0;
  GO = 0;
  if (fork() == 0) {
    close(p[0]);
    unsigned long end = sys_uptime() + SYSINFO->timebase_hz;
    while (!GO && (unsigned long)sys_uptime() < end)  // until the reader looks for writers
      sys_yield(0);
    write(p[1], "last words", 10);
    exit(0);
  }
  close(p[1]);
  exos_pipe_looking = writer_finishes_now;
  long n = read(p[0], buf, sizeof(buf));
  int ok = n == 10 && memcmp(buf, "last words", 10) == 0 && read(p[0], buf, 1) == 0;
  if (n == 0 && exos_pipe_looking == NULL)
    printf("t_pipestress: the reader found the pipe empty, then no writer, and took the end of "
           "the file: the writer's last bytes came in between\n");
  else if (n == 0)
    printf("t_pipestress: the reader took an empty pipe for the end of the file without "
           "looking for a live writer\n");
  exos_pipe_looking = NULL;
  close(p[0]);
  while (wait(NULL) > 0)
    ;
  vm_unmap(SHARED_VA);
  sys_page_free(shared);
  return ok;
}

#define DONE (*(volatile int *)(SHARED_VA + 64))

// The closer's hook (exos_pipe_retiring): once, having let go of its last
// end, tell the owner to close its own, and give it the processor until it
// has (50 ms at most: an owner that waits for this process to finish
// letting go never has), then go on.
static void owner_closes_now(void)
{
  exos_pipe_retiring = NULL;
  GO = 1;
  unsigned long end = sys_uptime() + SYSINFO->timebase_hz / 20;
  while (!DONE && (unsigned long)sys_uptime() < end)
    sys_yield(0);
}

// A child lets go of its last end of a pipe, and just then (the hook) the
// pipe's owner, this process, closes its own last end: the owner must not
// free the pages before the child is done with the header, or the child
// dies of a page fault. Returns 1 if the child ended well, and the pages
// are free again.
static int owner_frees_while_closing(void)
{
  int p[2], status = -1;
  long shared = vm_alloc(SHARED_VA, PTE_R | PTE_W | PTE_SHARE);
  if (shared < 0 || pipe(p) < 0)
    return 0;
  GO = DONE = 0;
  unsigned long header = 0;  // its header page: the only pipe this process has
  for (int i = 0; i < EXOS_NPIPES && header == 0; i++)
    header = PTE_PPN(vm_pte(EXOS_PIPES + i * 2 * PGSIZE));
  int pid = fork();
  if (pid == 0) {
    close(p[0]);
    exos_pipe_retiring = owner_closes_now;
    close(p[1]);
    exit(exos_pipe_retiring == NULL ? 0 : 2);
  }
  unsigned long end = sys_uptime() + SYSINFO->timebase_hz;
  while (!GO && (unsigned long)sys_uptime() < end)
    sys_yield(0);
  close(p[0]);
  close(p[1]);
  DONE = 1;
  waitpid(pid, &status);
  int freed = PAGEINFO(header)->owner == 0;
  vm_unmap(SHARED_VA);
  sys_page_free(shared);
  return status == 0 && freed;
}

// One round, in a process of its own that has just forked and reaped a
// child: its stack is copy-on-write, so its first wait for the pipe takes
// page faults whose handler calls the kernel, where a timer tick that came
// meanwhile preempts it, in the middle of deciding whether the input has
// ended. A child writes a message and exits; the round's process reads it,
// then the end of the file. Exits with 1 if it saw exactly that, else 0.
static void round_trip(void)
{
  if (fork() == 0)
    exit(7);
  wait(NULL);

  int p[2];
  char buf[32];
  if (pipe(p) < 0)
    exit(0);
  int pid = fork();
  if (pid == 0) {
    close(p[0]);
    write(p[1], "through a pipe", 14);
    exit(0);
  }
  close(p[1]);
  long n = read(p[0], buf, sizeof(buf));
  int ok = n == 14 && memcmp(buf, "through a pipe", 14) == 0 && read(p[0], buf, 1) == 0;
  close(p[0]);
  waitpid(pid, NULL);
  exit(ok);
}

// The sieve from its first process: the first number on in is a prime;
// report it on out and pass the numbers it does not divide to a forked
// child, which becomes the next process of the chain. Each ends when its
// input ends.
static void sieve(int in, int out)
{
  int prime, n, next[2], pid;
  for (;;) {
    if (read_full(in, &prime, sizeof(prime)) != sizeof(prime))
      exit(0);
    write(out, &prime, sizeof(prime));
    if (pipe(next) < 0 || (pid = fork()) < 0)
      exit(1);
    if (pid != 0)
      break;
    close(next[1]);
    close(in);
    in = next[0];
  }
  close(next[0]);
  close(out);
  while (read_full(in, &n, sizeof(n)) == sizeof(n))
    if (n % prime != 0)
      write(next[1], &n, sizeof(n));
  close(next[1]);
  close(in);
  waitpid(pid, NULL);
  exit(0);
}

// Run the sieve over 2..LIMIT-1. Returns the number of primes that came
// back in order (NPRIMES when nothing was lost).
static int primes(void)
{
  int numbers[2], results[2];
  pipe(numbers);
  pipe(results);
  int pid = fork();
  if (pid == 0) {
    close(numbers[1]);
    close(results[0]);
    sieve(numbers[0], results[1]);
  }
  close(numbers[0]);
  close(results[1]);
  for (int n = 2; n < LIMIT; n++)
    write(numbers[1], &n, sizeof(n));
  close(numbers[1]);
  int got = 0, p, want = 2;
  while (read_full(results[0], &p, sizeof(p)) == sizeof(p) && p == want) {
    got++;
    for (want++; want < LIMIT; want++) {
      int d = 2;
      while (want % d != 0)
        d++;
      if (d == want)
        break;
    }
  }
  close(results[0]);
  waitpid(pid, NULL);
  return got;
}

#define WRITERS 6
#define READERS 3
#define RECORDS 200  // each writer's
#define RECORD                                                                                     \
  512  // bytes: a key (the writer's number and a sequence number), then
       // words that each repeat it, complemented
#define WORDS (RECORD / sizeof(long))

// A writer: RECORDS records of RECORD bytes, one write call each.
static void writer(int fd, long w)
{
  long rec[WORDS];
  for (long i = 0; i < RECORDS; i++) {
    rec[0] = w * 1000000 + i;
    for (unsigned long k = 1; k < WORDS; k++)
      rec[k] = ~rec[0];
    if (write(fd, rec, RECORD) != RECORD)
      exit(1);
  }
  exit(0);
}

// A reader: read whole records to the end, one read call each, and send
// a tally of them (count, sum of the records' keys, malformed ones) on out.
static void reader(int fd, int out)
{
  long tally[3] = {0, 0, 0}, rec[WORDS];
  while (read_full(fd, rec, RECORD) == RECORD) {
    int whole = 1;
    for (unsigned long k = 1; k < WORDS; k++)
      whole &= rec[k] == ~rec[0];
    tally[0]++;
    tally[1] += rec[0];
    tally[2] += !whole;
  }
  write(out, tally, sizeof(tally));
  exit(0);
}

// WRITERS processes write to one pipe and READERS read it, all at once.
// Returns 1 if every record arrived whole and exactly once.
static int many_ends(void)
{
  int p[2], q[2];
  if (pipe(p) < 0 || pipe(q) < 0)
    return 0;
  for (long w = 0; w < WRITERS; w++)
    if (fork() == 0) {
      close(p[0]);
      writer(p[1], w);
    }
  for (int r = 0; r < READERS; r++)
    if (fork() == 0) {
      close(p[1]);
      reader(p[0], q[1]);
    }
  close(p[0]);
  close(p[1]);
  close(q[1]);
  long all[3] = {0, 0, 0}, tally[3], want = 0;
  for (int r = 0; r < READERS; r++)
    if (read_full(q[0], tally, sizeof(tally)) == sizeof(tally))
      for (int k = 0; k < 3; k++)
        all[k] += tally[k];
  close(q[0]);
  while (wait(NULL) > 0)
    ;
  for (long w = 0; w < WRITERS; w++)
    for (long i = 0; i < RECORDS; i++)
      want += w * 1000000 + i;
  printf("%ld records arrived (%ld malformed) of %d\n", all[0], all[2], WRITERS * RECORDS);
  return all[0] == WRITERS * RECORDS && all[1] == want && all[2] == 0;
}

int main(int argc, char **argv)
{
  int ok = 0;
  for (int i = 0; i < ROUNDS; i++) {
    int pid = fork(), status = 0;
    if (pid == 0)
      round_trip();
    waitpid(pid, &status);
    ok += status;
  }
  check("the last writer writes and exits while its reader looks for writers: the reader gets "
        "the bytes, then the end",
        last_words(), 1);
  check("100 times a child writes and exits: its reader gets every byte, then the end", ok, ROUNDS);
  check("the owner closes its last end of a pipe while a child lets go of its own: the child "
        "ends well, then the pages are free",
        owner_frees_while_closing(), 1);
  for (int i = 0; i < SIEVES; i++)
    check("a prime sieve over a chain of 60 processes finds every prime below 282", primes(),
          NPRIMES);
  check("6 writers and 3 readers on one pipe: every record arrives whole, once", many_ends(), 1);
  kcheck("the rounds and the sieves");
  finish("t_pipestress");
}
