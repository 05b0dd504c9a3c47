// demo: the lecture demos (README.md, "Demos").
//
//   demo          list them: name, where it runs, what it shows
//   demo NAME     run one: its title, then the program that shows it (which
//                 says what it is about to show and ends with its figure
//                 or verdict), then "demo NAME: done" or "demo NAME: FAILED"
//   demo -v NAME  the same at the view pace (user/demo.h): the program
//                 holds each state worth seeing for 2 s (-vN: N s; the
//                 measuring demos repeat their runs N times instead), for
//                 the live view (make demo NAME=x VIEW=1)
//
// `make demo NAME=x` boots the machine with init=demo x under -icount
// shift=0 (instruction counts exact), so the figures are the same on any
// host; from the shell the same programs run, their counts then approximate.
// Three demos need the host and run only from `make demo` (labs/demo.py):
// crash reboots the machine, ash needs the host's end of the wire, fuzz
// must be the first program (it checks that it controls every other).
//
// `demos` below is the only list: labs/demo.py reads it from this file for
// `make demo`'s listing, one entry a line.

#include "user/demo.h"

struct demo {
  const char *name;   // what `demo` and `make demo NAME=` take
  const char *prog;   // the program that shows it (NULL: from the host only)
  const char *arg;    // its argument (NULL: none)
  const char *title;  // one line: what it shows
  const char *about;  // what it is about to show, if the program does not say
};

static const struct demo demos[] = {
    {"bindings", "demo_bindings", NULL, "hostile page-table writes refused live; kcheck OK", NULL},
    {"upcall", "demo_bench", "upcall", "a fault upcalled to ExOS beside xv6's kernel handling it",
     NULL},
    {"paging", "pagedemo", NULL, "a program's own paging policy beats the clock",
     "paging: ExOS pages a 128-page array over /pagefile's blocks with room for 32 pages.\n"
     "paging: A cyclic scan: the clock evicts the page wanted soonest and misses on every\n"
     "paging: page; the program knows its order and installs MRU, which keeps 31 resident.\n"},
    {"stride", "demo_stride", NULL, "the stride scheduler's shares as live bars", NULL},
    {"revoke", "demo_revoke", NULL, "revocation: asked, answered, or taken by force", NULL},
    {"crash", NULL, NULL, "a crash at disk write N, a reboot, fsck clean", NULL},
    {"pct", "demo_bench", "pct", "PCT and RPC round trips beside xv6's pipe", NULL},
    {"bench", "demo_bench", "bench", "exobench against xv6 (the rows xv6 has)", NULL},
    {"ash", NULL, NULL, "a handler's round trip flat as processes are added", NULL},
    {"fuzz", NULL, NULL, "100,000 random system calls against the kernel; kcheck OK", NULL},
};
#define NDEMOS (sizeof(demos) / sizeof(demos[0]))

// Print the list of demos.
static void list(void)
{
  printf("the demos (demo NAME runs one, demo -v NAME at the view's pace; make demo NAME=x\n"
         "boots it with exact counts):\n");
  for (unsigned long i = 0; i < NDEMOS; i++)
    printf("  %-9s %-10s %s\n", demos[i].name, demos[i].prog ? "" : "(host)", demos[i].title);
}

// Run demo d: its program, waited for, with the pace argument pace_arg
// (-v or -vN) before its own if not NULL. Returns 0 if it ended well.
static int run(const struct demo *d, char *pace_arg)
{
  printf("demo %s: %s\n", d->name, d->title);
  if (d->prog == NULL) {
    printf("demo %s: it needs the host (it %s): run it with make demo NAME=%s\n", d->name,
           strcmp(d->name, "crash") == 0 ? "reboots the machine"
           : strcmp(d->name, "ash") == 0 ? "talks to the host's peer"
                                         : "must be the first program",
           d->name);
    return 2;
  }
  if (d->about != NULL)
    printf("%s", d->about);
  char path[32];
  char *argv[] = {(char *)d->prog, pace_arg, (char *)d->arg, NULL};
  if (pace_arg == NULL)
    argv[1] = argv[2], argv[2] = NULL;
  snprintf(path, sizeof(path), "/%s", d->prog);
  int pid = spawn(path, argv), status = -1;
  if (pid < 0)
    printf("demo %s: cannot start %s: %s\n", d->name, path, exos_strerror(pid));
  else if (pace_arg == NULL)
    waitpid(pid, &status);
  else  // asleep, not yielding to it: its holds may then sleep too (user/demo.h)
    while (waitpid_or_input(pid, &status) == 0)
      ;
  printf("demo %s: %s\n", d->name, status == 0 ? "done" : "FAILED");
  return status == 0 ? 0 : 1;
}

// demo: the list; demo [-v[N]] NAME: run that demo (exit status 0 if it
// ended well, 1 if not, 2 for a host-only or unknown one).
int main(int argc, char **argv)
{
  char *pace_arg = argc > 1 && strncmp(argv[1], "-v", 2) == 0 ? argv[1] : NULL;
  pace_args(&argc, &argv);
  if (argc < 2) {
    list();
    return 0;
  }
  for (unsigned long i = 0; i < NDEMOS; i++)
    if (strcmp(argv[1], demos[i].name) == 0) {
      fs_server(0);  // started here if this is the first program: the demos share it
      return run(&demos[i], pace_arg);
    }
  fprintf(2, "demo: no demo %s\n", argv[1]);
  list();
  return 2;
}
