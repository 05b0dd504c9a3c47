// ExOS remote procedure call over protected control transfer.
//
// A call carries six words in registers (struct rpc_msg; w[0] is the
// operation going in and the result coming back) and, for larger payloads,
// a page the client shares with the server: rpc_buffer(server) maps one on
// first use and tells the server, which maps it too; the server's handler
// finds it as req->buf. The kernel names the caller (it cannot be forged),
// which is how the server tells whose page is whose.
//
// The server side: rpc_serve(handler) never returns. It accepts calls one
// at a time (pct_accept(0 | PCT_ONCE)): the kernel refuses other callers
// while a call is being handled and re-arms on the reply, so the server is
// only entered when it is idle or has just replied, when it has no state to
// keep. The entry (rpc_entry.S's exos_rpc_entry) therefore starts every call
// afresh at the bottom of the server's stack, and after the reply it goes
// back to the idle loop instead of to where it was.
//
// The client side: rpc_call() retries a refused call after giving the
// server the processor (directed yield), so a busy server finishes first;
// a process with no PCT entry gets a few chances to become a server once it
// runs, and all the time it needs before (its creator may still be loading
// it: the kernel refuses calls to it with -E_NOENTRY until it has started
// and registered its entry); a server that dies makes the call return
// -E_BADENV, never hang. An idle server sleeps until a call comes (PCT_SLEEP), so it costs
// nothing while no one calls, and the machine powers off once only idle
// servers are left.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define RPC_CONNECT     (-1L)  // w[0] of the call that hands the server a client's page
#define NCLIENTS        64     // clients a server can hold pages of
#define NSERVERS        64     // servers a client can hold pages for
#define RPC_START_MS    250    // how long a process started may take to register its PCT entry

_Static_assert(EXOS_E_AGAIN == E_AGAIN && EXOS_E_NOENTRY == E_NOENTRY &&
                   EXOS_E_REFUSED == E_REFUSED,
               "the codes rpc_entry.S knows");

static rpc_handler handler;
unsigned long exos_rpc_retries;         // calls a busy server refused, retried
unsigned long exos_rpc_sp;              // the server's stack for each call (rpc_entry.S)
static unsigned int clients[NCLIENTS];  // slot i's page is at EXOS_RPC_CLIENTS + i pages
static int nclients;                    // slots ever used: every call searches only these
static unsigned int servers[NSERVERS];  // slot i's page is at EXOS_RPC_SERVERS + i pages

// The server's idle state: accept one call, and wait for it without the
// processor (the call enters at exos_rpc_entry).
static void __attribute__((noreturn)) idle(void)
{
  for (;;)
    sys_pct_accept(PCT_ONCE | PCT_SLEEP);
}

// Map the page ppn a client granted (the RPC_CONNECT call). Returns 0 or
// an error. (Out of line: the common call is another.)
static long __attribute__((noinline)) connect_client(unsigned int caller, unsigned long ppn)
{
  // LAB ipc: find the caller's slot, else a free one or a gone client's; map the page there
  // HANDOUT: return -E_NOSYS;
  int free = -1;
  for (int i = 0; i < NCLIENTS; i++) {
    if (clients[i] == caller)
      free = i;  // a new page for the same client replaces the old
    else if (free < 0 && (clients[i] == 0 ||
                          ((const struct env_info *)UENVS)[clients[i] & 255].id != clients[i]))
      free = i;  // unused, or its client is gone
  }
  if (free < 0)
    return -E_NOMEM;
  long err = vm_map(EXOS_RPC_CLIENTS + free * PGSIZE, ppn, PTE_R | PTE_W);
  clients[free] = err == 0 ? caller : 0;
  if (err == 0 && free >= nclients)
    nclients = free + 1;
  return err;
  // END LAB ipc
}

// The page the caller shares with this server, or NULL.
static void *client_page(unsigned int caller)
{
  // LAB ipc: the page of the caller's slot, if it has one
  // HANDOUT: return NULL;
  for (int i = 0; i < nclients; i++)
    if (clients[i] == caller)
      return (void *)(EXOS_RPC_CLIENTS + i * PGSIZE);
  return NULL;
  // END LAB ipc
}

// One call arrives (from exos_rpc_entry, on the server's stack): run the
// handler and reply if the caller waits. Then the server idles.
void __attribute__((noreturn))
exos_rpc_dispatch(long a0, long a1, long a2, long a3, long a4, long a5, long caller, long kind)
{
  // LAB ipc: connect a client's page, or run the handler with its page; reply to a call; idle
  // HANDOUT: idle();
  struct rpc_req r;  // every field set: nothing to clear
  r.caller = caller;
  r.msg = (struct rpc_msg){{a0, a1, a2, a3, a4, a5}};
  if (a0 == RPC_CONNECT) {
    r.buf = NULL;
    r.msg.w[0] = connect_client(caller, a1);
  } else {
    r.buf = client_page(caller);
    handler(&r);
  }
  if (kind == PCT_SYNC) {
    const long *w = r.msg.w;
    sys_pct_reply(w[0], w[1], w[2], w[3], w[4], w[5], caller);
  }
  idle();
  // END LAB ipc
}

// Become a server: every call is handed to h, on this stack, one at a
// time. Does not return.
void rpc_serve(rpc_handler h)
{
  // LAB ipc: keep h, choose the calls' stack, accept one call at a time, register the entry, idle
  // HANDOUT: for (;;)
  // HANDOUT:   sys_pct_accept(PCT_NOBODY | PCT_SLEEP);  // a server that takes no call yet
  handler = h;
  exos_rpc_sp = PGROUNDDOWN((unsigned long)__builtin_frame_address(0)) - PGSIZE;
  // One call at a time from the very first: until told otherwise the kernel
  // delivers calls to an entry as they come, and a second caller would
  // start afresh over the first call's half-done work.
  long err = sys_pct_accept(PCT_ONCE);
  if (err == 0)
    err = sys_env_set_entry(0, ENTRY_PCT, (unsigned long)exos_rpc_entry);
  if (err < 0) {
    printf("%s: cannot serve: %s\n", exos_progname(), exos_strerror(err));
    exit(-1);
  }
  idle();
  // END LAB ipc
}

// Has env run yet? One that its creator has not started cannot (a started
// one waiting for the kernel cannot either, for now: it is given time).
static int started(unsigned int env)
{
  return ((const struct env_info *)UENVS)[env & 255].status == ENV_RUNNABLE;
}

// Call server again with *m after a call the server never saw (r: it was
// refused, or the server was not ready or had no entry yet), giving it
// the processor before each try, until one is answered or fails for good.
// Returns as rpc_call. (Kept out of line: the common call needs none of it.)
static long __attribute__((noinline)) wait_turn(unsigned int server, struct rpc_msg *m, long r)
{
  // LAB ipc: wait a busy or unready server's turn (yielding to it) and call again
  // HANDOUT: return r;
  unsigned long hz = ((const struct sysinfo *)USYSINFO)->timebase_hz, until = 0;
  for (;; r = exos_pct_call(m, server)) {
    if (r == -E_NOENTRY && started(server) && until == 0)
      until = rdtime() + hz / 1000 * RPC_START_MS;  // (a yield may return at once: count time)
    if (r == -E_NOENTRY && (!started(server) || rdtime() < until))
      r = -E_AGAIN;  // perhaps a server still starting up
    // A server busy with another call refuses this one (-E_REFUSED); one not ready cannot
    // take it yet (-E_AGAIN). Either way it needs the processor before it can answer.
    if (r != -E_REFUSED && r != -E_AGAIN)
      return r;
    exos_rpc_retries++;
    if (sys_yield(server) < 0)  // busy: let it finish, or if it cannot run, anyone
      sys_yield(0);
  }
  // END LAB ipc
}

// Call server with the message in *m; the reply replaces it. Returns the
// reply's w[0] (by convention a result or a negative error), or -E_BADENV
// if the server is gone, -E_NOENTRY if it serves nothing.
long rpc_call(unsigned int server, struct rpc_msg *m)
{
  // LAB ipc: call; a call the server never saw waits its turn
  // HANDOUT: return -E_NOSYS;
  long r = exos_pct_call(m, server);
  if (r == -E_REFUSED || r == -E_AGAIN || r == -E_NOENTRY)
    return wait_turn(server, m, r);  // *m is still the message (rpc_entry.S)
  return r;
  // END LAB ipc
}

// The page shared with server for payloads, mapped and handed over on
// first use. Returns NULL if it cannot be made.
void *rpc_buffer(unsigned int server)
{
  // LAB ipc: the server's slot if it has one; else a new page, granted and sent (RPC_CONNECT)
  // HANDOUT: return NULL;
  int free = -1;
  for (int i = 0; i < NSERVERS; i++) {
    if (servers[i] == server)
      return (void *)(EXOS_RPC_SERVERS + i * PGSIZE);
    if (free < 0 && servers[i] == 0)
      free = i;
  }
  if (free < 0)
    return NULL;
  unsigned long va = EXOS_RPC_SERVERS + free * PGSIZE;
  long p = vm_alloc(va, PTE_R | PTE_W);
  struct rpc_msg m = {{RPC_CONNECT, p}};
  if (p < 0 || sys_page_grant(p, server, GRANT_R | GRANT_W) < 0 || rpc_call(server, &m) < 0) {
    if (p >= 0) {
      vm_unmap(va);
      sys_page_free(p);
    }
    return NULL;
  }
  servers[free] = server;
  return (void *)va;
  // END LAB ipc
}

// Forget the shared pages (a forked child starts without them: fork does
// not copy ExOS's own pages).
void rpc_forget(void)
{
  memset(servers, 0, sizeof(servers));
  memset(clients, 0, sizeof(clients));
  nclients = 0;
}
