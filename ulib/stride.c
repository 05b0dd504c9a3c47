// Stride scheduling (Waldspurger and Weihl), the ExOS example of the
// exokernel paper: a scheduler environment owns time slices and gives each
// one, by directed yield, to the client with the least "pass"; a client's
// pass advances by its stride (STRIDE1 / tickets) each time it is chosen,
// so over time each client gets slices in proportion to its tickets.
// Tickets may change while the scheduler runs (dynamic stride scheduling):
// a client keeps the part of its turn it has not waited out yet, scaled to
// its new stride.
//
// The kernel provides only the mechanisms: slice ownership and directed
// yield. Everything here is policy, in the library.

#include "ulib.h"

#define STRIDE1  (1UL << 20)
#define NCLIENTS 16

static struct client {
  int pid;
  unsigned long tickets, stride, pass;
} clients[NCLIENTS];
static int nclients;

// LAB sched: the client table: find a client, the least pass (virtual "now"), add, change tickets, remove
// HANDOUT: int stride_add(int pid, unsigned long tickets) { (void)pid; (void)tickets; return -1; }
// HANDOUT: int stride_set_tickets(int pid, unsigned long tickets) { (void)pid; (void)tickets; return -1; }
// HANDOUT: int stride_remove(int pid) { (void)pid; return -1; }
// The client for process pid, or NULL.
static struct client *find(int pid)
{
  for (int i = 0; i < nclients; i++)
    if (clients[i].pid == pid)
      return &clients[i];
  return NULL;
}

// The least pass of all clients (0 if there is none): the scheduler's
// virtual time, where a client that joins or changes starts its turn.
static unsigned long front(void)
{
  unsigned long least = 0;
  for (int i = 0; i < nclients; i++)
    if (i == 0 || clients[i].pass < least)
      least = clients[i].pass;
  return least;
}

// Add process pid with the given tickets (at least 1). It joins at the
// current front, as if it had just been chosen: it gets no credit for the
// time before it existed. Returns 0, or -1 if the table is full, tickets
// is 0 or pid is a client already.
int stride_add(int pid, unsigned long tickets)
{
  if (nclients == NCLIENTS || tickets == 0 || find(pid) != NULL)
    return -1;
  struct client *c = &clients[nclients];
  c->pid = pid;
  c->tickets = tickets;
  c->stride = STRIDE1 / tickets;
  c->pass = front() + c->stride;
  nclients++;
  return 0;
}

// Give client pid a new number of tickets (at least 1), at once, even while
// stride_run runs. Its remaining distance to the front is scaled from the
// old stride to the new one, so the change neither gives it a burst of
// turns nor costs it one. Returns 0, or -1 if pid is no client or tickets
// is 0.
int stride_set_tickets(int pid, unsigned long tickets)
{
  struct client *c = find(pid);
  if (c == NULL || tickets == 0)
    return -1;
  unsigned long now = front(), stride = STRIDE1 / tickets;
  c->pass = now + (c->pass - now) * stride / c->stride;
  c->tickets = tickets;
  c->stride = stride;
  return 0;
}

// Stop scheduling process pid: it gets no more slices from stride_run (it
// may go on running in slices it owns itself). Returns 0, or -1 if pid is
// no client.
int stride_remove(int pid)
{
  struct client *c = find(pid);
  if (c == NULL)
    return -1;
  *c = clients[nclients - 1];
  nclients--;
  return 0;
}
// END LAB sched

// Take every free time slice, then for `ticks` timer ticks give each of our
// slices to the client with the least pass, advancing its pass by its
// stride. Returns the number of slices handed out (clients that cannot run
// lose their turn), or -E_NOSYS while unwritten. Frees the slices again at
// the end.
long stride_run(unsigned long ticks)
{
  // LAB sched: take the free slices; each slice, yield to the client with the least pass and advance its pass; free our slices
  // HANDOUT: (void)ticks;
  // HANDOUT: return -E_NOSYS;
  while (sys_slice_alloc(0, -1) >= 0)
    ;
  long given = 0;
  unsigned long end = sys_uptime() + ticks;
  while ((unsigned long)sys_uptime() < end && nclients > 0) {
    struct client *best = &clients[0];
    for (int i = 1; i < nclients; i++)
      if (clients[i].pass < best->pass)
        best = &clients[i];
    best->pass += best->stride;
    if (sys_yield(best->pid) == 0)  // returns when our next slice begins
      given++;
  }
  const unsigned int *owner = (const unsigned int *)USLICES;
  unsigned int me = sys_getenvid();
  for (int i = 0; i < NSLICES; i++)
    if (owner[i] == me)
      sys_slice_free(i);
  return given;
  // END LAB sched
}
