// t_pct: protected control transfer between environments.

#include "user/tsupport.h"

#define OP_ADD          1
#define OP_DIE          2
#define OP_COUNT        3
#define OP_ACCEPT       4

static unsigned long asyncs;  // the server's count of asynchronous messages

// The server's PCT entry: a fresh stack for every call, then C.
PCT_SERVER_ENTRY();

// Handle one message. Synchronous calls are answered with pct_reply, whose
// a1 echoes the caller id the kernel supplied; asynchronous ones are counted.
void server_call(long op, long x, long y, long a3, long a4, long a5, long caller, long kind)
{
  if (kind == PCT_ASYNC) {
    asyncs++;
  } else if (op == OP_ADD) {
    sys_pct_reply(x + y, caller, a5, 0, 0, 0, caller);
  } else if (op == OP_COUNT) {
    sys_pct_reply(asyncs, 0, 0, 0, 0, 0, caller);
  } else if (op == OP_ACCEPT) {
    sys_pct_accept(x);
    sys_pct_reply(0, 0, 0, 0, 0, 0, caller);
  } else if (op == OP_DIE) {
    child_exit();  // never answers
  }
  for (;;)
    sys_yield(0);
}

// The server: register the PCT entry, then give the processor away until
// a call comes. Calls run on the lower page of its stack, this loop on the
// upper one.
static void server(void)
{
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)server_entry);
  for (;;)
    sys_yield(0);
}

// A server that waits for calls without the processor.
static void sleeping_server(void)
{
  sys_env_set_entry(0, ENTRY_PCT, (unsigned long)server_entry);
  sys_pct_accept(PCT_SLEEP);
  for (;;)
    sys_yield(0);  // not reached: a call enters at server_entry
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);

  long srv = spawn_child("server", server);
  check("spawn server", srv > 0, 1);
  check("call before the server started", sys_pct_call(OP_ADD, 1, 2, 0, 0, 0, srv), -E_NOENTRY);
  sys_env_start(srv);
  sys_yield(srv);  // let it register its entry

  check("call: 2 + 3", sys_pct_call(OP_ADD, 2, 3, 0, 0, 0, srv), 5);
  register long r1 asm("a1");
  register long r2 asm("a2");
  long sum = sys_pct_call(OP_ADD, 40, 2, 0, 0, 77, srv);
  asm volatile("" : "=r"(r1), "=r"(r2));
  long seen_id = r1, echoed = r2;
  check("call: 40 + 2", sum, 42);
  check("callee saw my id, written by the kernel", seen_id, me);
  check("reply registers carry more results", echoed, 77);
  for (int i = 0; i < 100; i++)
    if (sys_pct_call(OP_ADD, i, i, 0, 0, 0, srv) != 2 * i) {
      check("100 calls in a row", i, 100);
      break;
    }
  check("async send", sys_pct_send(OP_ADD, 0, 0, 0, 0, 0, srv), 0);
  check("async send again", sys_pct_send(OP_ADD, 0, 0, 0, 0, 0, srv), 0);
  check("the server counted two asynchronous messages", sys_pct_call(OP_COUNT, 0, 0, 0, 0, 0, srv),
        2);

  // One call at a time: a delivered call refuses others; the reply re-arms.
  check("callee accepts one call at a time", sys_pct_call(OP_ACCEPT, PCT_ONCE, 0, 0, 0, 0, srv), 0);
  check("... a call", sys_pct_call(OP_ADD, 1, 2, 0, 0, 0, srv), 3);
  check("... its reply accepted the next", sys_pct_call(OP_ADD, 3, 4, 0, 0, 0, srv), 7);
  check("... a send, which gets no reply", sys_pct_send(OP_ADD, 0, 0, 0, 0, 0, srv), 0);
  check("... so the next call is refused", sys_pct_call(OP_ADD, 1, 1, 0, 0, 0, srv), -E_REFUSED);
  check("bad acceptance flags refused", sys_pct_accept(1UL << 34), -E_INVAL);
  sys_env_destroy(srv);
  srv = spawn_child("server", server);
  sys_env_start(srv);
  sys_yield(srv);

  check("callee refuses everyone", sys_pct_call(OP_ACCEPT, PCT_NOBODY, 0, 0, 0, 0, srv), 0);
  check("call refused", sys_pct_call(OP_ADD, 1, 1, 0, 0, 0, srv), -E_REFUSED);
  check("send refused", sys_pct_send(OP_ADD, 1, 1, 0, 0, 0, srv), -E_REFUSED);

  check("reply to someone not waiting refused", sys_pct_reply(0, 0, 0, 0, 0, 0, srv),
        -E_NOTWAITING);
  check("call to myself refused", sys_pct_call(0, 0, 0, 0, 0, 0, me), -E_BADENV);
  check("call to nobody refused", sys_pct_call(0, 0, 0, 0, 0, 0, 0x7fffff), -E_BADENV);
  sys_env_destroy(srv);
  check("call to a dead server refused", sys_pct_call(OP_ADD, 1, 1, 0, 0, 0, srv), -E_BADENV);
  kcheck("calls");

  // A server that dies during a call makes the call fail instead of hang.
  srv = spawn_child("server", server);
  sys_env_start(srv);
  sys_yield(srv);
  check("server accepts only its parent", sys_pct_call(OP_ACCEPT, me, 0, 0, 0, 0, srv), 0);
  check("call a server that dies instead of answering", sys_pct_call(OP_DIE, 0, 0, 0, 0, 0, srv),
        -E_BADENV);
  check("it is gone", ENVINFO(srv)->id == (unsigned int)srv, 0);
  kcheck("dying server");

  // A server can wait for calls without the processor; a call wakes it.
  srv = spawn_child("server", sleeping_server);
  sys_env_start(srv);
  sys_yield(srv);
  check("a sleeping server waits without the processor", ENVINFO(srv)->status, ENV_NOT_RUNNABLE);
  check("... a call wakes it", sys_pct_call(OP_ADD, 2, 2, 0, 0, 0, srv), 4);
  sys_env_destroy(srv);
  // Another is left asleep: once this program ends, no one can call it,
  // and the machine powers off (the grader looks for that).
  srv = spawn_child("server", sleeping_server);
  sys_env_start(srv);
  sys_yield(srv);
  check("a second sleeping server, left asleep", ENVINFO(srv)->status, ENV_NOT_RUNNABLE);
  check("tear down scratch tables", aspace_teardown(&self), 0);
  finish("t_pct");
}
