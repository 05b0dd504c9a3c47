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

// Whether an environment other than this one is runnable (the exported
// environment table says).
static inline int others_runnable(void)
{
  const struct sysinfo *si = (const struct sysinfo *)USYSINFO;
  const struct env_info *envs = (const struct env_info *)UENVS;
  unsigned int me = sys_getenvid();
  for (unsigned long i = 0; i < si->nenv; i++)
    if (envs[i].status == ENV_RUNNABLE && envs[i].id != me)
      return 1;
  return 0;
}

// Let the machine run for ms milliseconds of its time, giving the
// processor away: to the others while any is runnable, else asleep a few
// ms at a time (net_wait on no filter, until a deadline), so that a
// machine with nothing else to run idles: under -icount shift=0 its clock
// then keeps the host's pace (yielding, a second of it took eight of the
// host's).
static inline void pace_wait(unsigned long ms)
{
  unsigned long end = sys_uptime() + pace_ticks(ms), now;
  while ((now = sys_uptime()) < end) {
    unsigned long until = now + pace_ticks(10) < end ? now + pace_ticks(10) : end;
    if (others_runnable() || sys_net_wait(NET_WAIT_ALL, 0, until) != -E_TIMEOUT)
      sys_yield(0);
  }
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
