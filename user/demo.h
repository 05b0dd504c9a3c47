// The view pace of the lecture demos (demo -v NAME; make demo NAME=x VIEW=1).
//
// A demo is over in a fraction of a second, before the live view
// (labs/view.py) has drawn it twice. Under the view pace a demo program
// holds each state worth seeing -- a child with the pages it is attacked
// through, a revocation pending, the bars running -- for a few seconds of
// machine time, saying so on the console first ("revoke: holding for the
// view (2 s): ..."), and otherwise does what it does without it: same
// lines, same figures, same verdict.
//
// The one mechanism: demo.c passes the pace on as the program's first
// argument, "-v" (PACE_SECONDS) or "-vN" (N seconds), before the
// program's own arguments; pace_args takes it off.

#ifndef DEMO_H
#define DEMO_H

#include "ulib/ulib.h"

#define PACE_SECONDS 2  // a hold under plain -v

static unsigned long pace;  // seconds each hold lasts; 0: no view pace

// Take a leading -v or -vN off argv (pace: PACE_SECONDS or N), leaving
// argv[0] and the program's own arguments.
static inline void pace_args(int *argc, char ***argv)
{
  char *a = *argc > 1 ? (*argv)[1] : "";
  if (a[0] != '-' || a[1] != 'v')
    return;
  pace = a[2] ? atoi(a + 2) : PACE_SECONDS;
  (*argv)[1] = (*argv)[0];
  (*argv)++;
  (*argc)--;
}

// Machine time from now to ms milliseconds later, in rdtime ticks.
static inline unsigned long pace_ticks(unsigned long ms)
{
  return ((const struct sysinfo *)USYSINFO)->timebase_hz / 1000 * ms;
}

// Let the machine run for ms milliseconds of its time, giving the
// processor away.
static inline void pace_wait(unsigned long ms)
{
  unsigned long end = sys_uptime() + pace_ticks(ms);
  while ((unsigned long)sys_uptime() < end)
    sys_yield(0);
}

// Under the view pace, say "DEMO: holding for the view (N s): WHAT"
// (a demo that holds by running slower says it so).
static inline void pace_say(const char *demo, const char *what)
{
  if (pace != 0)
    printf("%s: holding for the view (%lu s): %s\n", demo, pace, what);
}

// Under the view pace: say so (pace_say) and let the machine run for the
// pace's seconds. Without it: nothing.
static inline void pace_hold(const char *demo, const char *what)
{
  pace_say(demo, what);
  if (pace != 0)
    pace_wait(pace * 1000);
}

#endif
