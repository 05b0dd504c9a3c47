// Stride scheduling (Waldspurger and Weihl), the ExOS example of the
// exokernel paper: a scheduler environment owns time slices and gives each
// one, by directed yield, to the client with the least "pass"; a client's
// pass advances by its stride (STRIDE1 / tickets) each time it is chosen,
// so over time each client gets slices in proportion to its tickets.
//
// The kernel provides only the mechanisms: slice ownership and directed
// yield. Everything here is policy, in the library.

#include "ulib.h"

#define STRIDE1  (1UL << 20)
#define NCLIENTS 16

static struct {
  int pid;
  unsigned long tickets, stride, pass;
} clients[NCLIENTS];
static int nclients;

// Add process pid with the given tickets (at least 1). Returns 0 or -1.
int stride_add(int pid, unsigned long tickets)
{
  if (nclients == NCLIENTS || tickets == 0)
    return -1;
  unsigned long min_pass = 0;
  for (int i = 0; i < nclients; i++)
    if (i == 0 || clients[i].pass < min_pass)
      min_pass = clients[i].pass;
  clients[nclients].pid = pid;
  clients[nclients].tickets = tickets;
  clients[nclients].stride = STRIDE1 / tickets;
  clients[nclients].pass = min_pass + STRIDE1 / tickets;  // joins at the current front
  nclients++;
  return 0;
}

// Take every free time slice, then for `ticks` timer ticks give each of our
// slices to the client with the least pass. Returns the number of slices
// handed out (clients that cannot run lose their turn). Frees the slices
// again at the end.
long stride_run(unsigned long ticks)
{
  while (sys_slice_alloc(0, -1) >= 0)
    ;
  long given = 0;
  unsigned long end = sys_uptime() + ticks;
  while ((unsigned long)sys_uptime() < end) {
    int best = -1;
    // LAB sched: choose the client with the least pass and advance its pass by its stride
    for (int i = 0; i < nclients; i++)
      if (best < 0 || clients[i].pass < clients[best].pass)
        best = i;
    if (best >= 0)
      clients[best].pass += clients[best].stride;
    // END LAB sched
    if (best < 0)
      break;
    if (sys_yield(clients[best].pid) == 0)  // returns when our next slice begins
      given++;
  }
  const unsigned int *owner = (const unsigned int *)USLICES;
  unsigned int me = sys_getenvid();
  for (int i = 0; i < NSLICES; i++)
    if (owner[i] == me)
      sys_slice_free(i);
  return given;
}
