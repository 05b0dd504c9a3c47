// demo_bench: the demos made of exobench rows (demo upcall, demo pct,
// demo bench). It runs `exobench quick ROW...` with its output into a file,
// shows the rows' lines of the table (instructions per operation, xv6's
// figure and the ratio where xv6 has one), and ends with the comparison the
// demo is about, read from those lines: exobench measures, this program
// only compares. xv6's figures are exobench's references (README.md,
// "Benchmarks": xv6-riscv under the same QEMU, one hart, -icount shift=0).
//
// Usage: demo_bench [-v[N]] upcall|pct|bench
//
// Under the view pace (-vN, user/demo.h) exobench measures the rows N
// times, its lines not shown, so that the live view shows it at work (its
// environments, its exceptions); then once more, shown, as without the
// pace. The pct demo first holds one RPC call for the pace's seconds: its
// server, a child, sits on it before replying, so that the view's PCT
// panel shows the call. (Runs, not seconds: under -icount shift=0, for
// exact counts, a second of a busy machine's time lasts about eight of the
// host's; a quick run lasts about one.)

#include "user/demo.h"

#define MAXROWS 6
#define OUTSIZE 16384              // exobench's whole output (its table has every row)
#define OUTFILE "/demo_bench.out"  // exobench's output, removed after

struct row {
  const char *name;
  long tenths;  // instructions per operation, in tenths (-1: no figure)
  long xv6;     // xv6's figure (-1: none)
};

struct show {
  const char *name;
  const char *about[4];  // what it is about to show, a line each
  const char *rows[MAXROWS];
  int (*verdict)(struct row *r);  // print the comparison; 1 if it holds
};

static char out[OUTSIZE];
static int quiet;  // measure without showing exobench's lines

// The number at *p ("1,589", "7.5", "-"): in tenths, or -1. Moves *p past it.
static long number(const char **p)
{
  long v = -1;
  while (**p == ' ')
    (*p)++;
  for (; (**p >= '0' && **p <= '9') || **p == ','; (*p)++)
    if (**p != ',')
      v = (v < 0 ? 0 : v * 10) + **p - '0';
  v = v < 0 ? -1 : v * 10;
  if (**p == '.' && v >= 0) {
    v += (*p)[1] - '0';
    *p += 2;
  }
  while (**p != ' ' && **p != 0 && **p != '\n')
    (*p)++;
  return v;
}

// The line of the output that starts with prefix and then a space, or NULL.
static const char *line_of(const char *prefix)
{
  unsigned long n = strlen(prefix);
  for (const char *line = out; *line != 0; line++) {
    if (strncmp(line, prefix, n) == 0 && line[n] == ' ')
      return line;
    while (*line != '\n' && line[1] != 0)
      line++;
  }
  return NULL;
}

// Print the output's line that starts at line, indented.
static void show_line(const char *line)
{
  if (quiet)
    return;
  char buf[160];
  unsigned long n = 0;
  while (line[n] != 0 && line[n] != '\n' && n < sizeof(buf) - 1)
    n++;
  memmove(buf, line, n);
  buf[n] = 0;
  printf("  %s\n", buf);
}

// Find row r's line in the output, print it, and read its figure and
// xv6's (the columns: name iters instr/op runs xv6-riscv ...).
static void read_row(struct row *r)
{
  const char *line = line_of(r->name), *p;
  r->tenths = r->xv6 = -1;
  if (line == NULL) {
    printf("  %s: no figure in exobench's output\n", r->name);
    return;
  }
  show_line(line);
  p = line + strlen(r->name);
  number(&p);  // iterations
  r->tenths = number(&p);
  number(&p);  // the runs' spread
  r->xv6 = number(&p);
  r->xv6 = r->xv6 < 0 ? -1 : r->xv6 / 10;
}

// Run exobench quick on the rows, its output into the file OUTFILE (a
// pipe would fill: exobench prints its whole table at the end, and a
// reader waiting on a pipe would run beside the rows it measures); fill
// r[] from its table. Returns the number of rows read, or -1.
static int measure(const char *const *names, struct row *r)
{
  int fd = open(OUTFILE, O_CREATE | O_RDWR | O_TRUNC), keep = dup(1), pid = -1, n = 0;
  char *argv[MAXROWS + 3] = {"exobench", "quick"};
  while (names[n] != NULL && n < MAXROWS) {
    argv[n + 2] = (char *)names[n];
    n++;
  }
  if (fd >= 0 && keep >= 0) {
    dup2(fd, 1);
    pid = spawn("/exobench", argv);
    dup2(keep, 1);
  }
  long got = 0, k;
  if (pid >= 0 && waitpid(pid, NULL) == pid && lseek(fd, 0, SEEK_SET) == 0)
    while (got < OUTSIZE - 1 && (k = read(fd, out + got, OUTSIZE - 1 - got)) > 0)
      got += k;
  out[got] = 0;
  close(keep);
  close(fd);
  unlink(OUTFILE);
  if (got == 0)
    return -1;
  if (line_of("exobench: WARNING:") != NULL && !quiet)
    printf("  (QEMU runs without -icount here: these are not instruction counts; make demo "
           "NAME=... gives exact ones)\n");
  if (line_of("benchmark") != NULL)
    show_line(line_of("benchmark"));
  for (int i = 0; i < n; i++) {
    r[i].name = names[i];
    read_row(&r[i]);
  }
  return n;
}

// tenths as a figure, "1,589" or "89.4", in one of a few rotating buffers
// (so that a printf may take several).
static const char *fig(long tenths)
{
  static char bufs[8][24];
  static int next;
  char *b = bufs[next++ % 8];
  long whole = tenths / 10;
  if (whole >= 1000000)
    snprintf(b, 24, "%ld,%03ld,%03ld", whole / 1000000, whole / 1000 % 1000, whole % 1000);
  else if (whole >= 1000)
    snprintf(b, 24, "%ld,%03ld", whole / 1000, whole % 1000);
  else
    snprintf(b, 24, "%ld", whole);
  if (tenths % 10)
    snprintf(b + strlen(b), 4, ".%ld", tenths % 10);
  return b;
}

// a / b (both positive) in tenths, rounded.
static long times(long a, long b)
{
  return b > 0 ? (a * 10 + b / 2) / b : 0;
}

// The upcall demo's comparison, from its rows (exception-upcall,
// pagefault-map-only, demand-zero-fault); 1 if ExOS's fault is cheaper.
static int upcall_verdict(struct row *r)
{
  printf("upcall: in ExOS: an upcall and resume %s, a fault that maps a page %s, a demand-zero\n"
         "upcall: fault %s (most of it zeroing the 4 KiB page); in xv6's kernel %s\n",
         fig(r[0].tenths), fig(r[1].tenths), fig(r[2].tenths), fig(r[2].xv6 * 10));
  printf("upcall: verdict: a demand-zero fault costs %sx fewer instructions in the library OS\n",
         fig(times(r[2].xv6 * 10, r[2].tenths)));
  return r[2].tenths < r[2].xv6 * 10;
}

// The pct demo's comparison, from its rows (pct-roundtrip, rpc-roundtrip,
// pipe-roundtrip); 1 if a PCT round trip is cheaper than xv6's pipe's.
static int pct_verdict(struct row *r)
{
  printf("pct: round trips: PCT %s, RPC %s, ExOS pipe %s; xv6's pipe %s\n", fig(r[0].tenths),
         fig(r[1].tenths), fig(r[2].tenths), fig(r[2].xv6 * 10));
  printf("pct: verdict: xv6's pipe round trip costs %sx a PCT round trip, %sx an ExOS pipe's\n",
         fig(times(r[2].xv6 * 10, r[0].tenths)), fig(times(r[2].xv6 * 10, r[2].tenths)));
  return r[0].tenths < r[2].xv6 * 10;
}

// The bench demo's comparison: on how many rows exobench's figure is below
// xv6's, and by how much; 1 if on all.
static int bench_verdict(struct row *r)
{
  int faster = 0, n = 0;
  long lo = -1, hi = -1;
  for (; n < MAXROWS && r[n].name != NULL; n++) {
    long x = times(r[n].xv6 * 10, r[n].tenths);
    faster += x > 10;
    lo = lo < 0 || x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  printf("bench: verdict: fewer instructions than xv6 on %d of %d rows: %sx to %sx fewer\n", faster,
         n, fig(lo), fig(hi));
  return faster == n;
}

static const struct show shows[] = {
    {"upcall",
     {"In an exokernel the kernel does not handle a page fault: it upcalls the library OS,",
      "which maps a page and resumes the program without entering the kernel again.",
      "rvexo's kernel has no demand-zero path of its own, so the kernel that handles the",
      "fault itself is xv6 (its figure measured the same way). exobench measures:"},
     {"exception-upcall", "pagefault-map-only", "demand-zero-fault", NULL},
     upcall_verdict},
    {"pct",
     {"A protected control transfer switches to a named environment at its entry point;",
      "RPC is built on it in ExOS, and pipes on shared pages. xv6 has only its pipe,",
      "a system call each way through the kernel's sleep and wakeup. exobench measures:", NULL},
     {"pct-roundtrip", "rpc-roundtrip", "pipe-roundtrip", NULL},
     pct_verdict},
    {"bench",
     {"exobench against xv6-riscv, on the rows xv6 was measured on: a system call, a",
      "page fault, a pipe round trip, fork and fork+exec (instructions per operation;",
      "the empty lines on the way are echo's, which fork+exec runs)."},
     {"null-syscall", "demand-zero-fault", "pipe-roundtrip", "fork-exit-wait", "fork-exec-wait",
      NULL},
     bench_verdict},
};

// The held call's server: keep the call the pace's seconds, then answer.
static void hold_call(struct rpc_req *r)
{
  pace_wait(pace * 1000);
  r->msg.w[0] = 0;
}

// Under the view pace, make one RPC call to a child that holds it (the
// client waiting, the server sitting on it); say so first.
static void held_call(void)
{
  int pid = fork();
  if (pid == 0)
    rpc_serve(hold_call);
  struct rpc_msg m = {{0}};
  pace_say("pct", "demo_bench calls its child, which holds the call before it replies");
  if (pid < 0 || rpc_call(pid, &m) < 0)
    printf("pct: the held call failed\n");
  if (pid > 0) {
    kill(pid);
    waitpid(pid, NULL);
  }
}

// Run the show argv[1] names: say what it shows, measure, compare. Exits
// 0 if the comparison holds, 1 if not (or no figure), 2 on bad usage.
int main(int argc, char **argv)
{
  pace_args(&argc, &argv);
  for (unsigned long i = 0; i < sizeof(shows) / sizeof(shows[0]); i++) {
    const struct show *s = &shows[i];
    if (argc != 2 || strcmp(argv[1], s->name) != 0)
      continue;
    struct row r[MAXROWS + 1];
    memset(r, 0, sizeof(r));
    for (int k = 0; k < 4 && s->about[k] != NULL; k++)
      printf("%s: %s\n", s->name, s->about[k]);
    if (pace && strcmp(s->name, "pct") == 0)
      held_call();
    if (pace) {
      printf("%s: holding for the view (%lu runs): exobench measures the rows %lu times first, "
             "unshown\n", s->name, pace, pace);
      quiet = 1;
      for (unsigned long k = 0; k < pace && measure(s->rows, r) > 0; k++)
        ;
      quiet = 0;
    }
    int n = measure(s->rows, r), measured = n > 0;
    for (int k = 0; k < n; k++)
      measured &= r[k].tenths > 0;
    if (!measured) {
      printf("%s: verdict: FAILED: exobench gave no figure for every row\n", s->name);
      return 1;
    }
    return s->verdict(r) ? 0 : 1;
  }
  fprintf(2, "usage: demo_bench upcall|pct|bench\n");
  return 2;
}
