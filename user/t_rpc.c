// t_rpc: ExOS's RPC over PCT, in three parts (the argument):
//   calls  results in registers, the caller's id, payloads in a page each
//          client shares with the server, a server still starting up,
//          clients that come and go, calling what serves nothing;
//   busy   three clients at once: a busy server's callers wait their turn;
//   dead   a server that dies, during a call or between calls.
// A call that never returns must not hang the test: the calls that could
// run in a child, which the parent gives a bounded time.

#include "user/tsupport.h"

enum { OP_ADD = 1, OP_WHO, OP_REVERSE, OP_PEEK, OP_SPIN, OP_DIE };

static volatile long calls;  // in the server: calls handled

// The server's handler.
static void handle(struct rpc_req *r)
{
  long *w = r->msg.w;
  calls++;
  switch (w[0]) {
  case OP_ADD:
    w[0] = w[1] + w[2];
    w[1] = calls;
    w[5] = w[1] * 3;
    break;
  case OP_WHO:
    w[0] = r->caller;
    break;
  case OP_REVERSE: {  // reverse the string in the caller's page
    char *s = r->buf;
    if (s == NULL) {
      w[0] = -E_INVAL;
      break;
    }
    long n = strlen(s);
    for (long i = 0; i < n / 2; i++) {
      char c = s[i];
      s[i] = s[n - 1 - i];
      s[n - 1 - i] = c;
    }
    w[0] = n;
    break;
  }
  case OP_PEEK:  // the first byte of the caller's page
    w[0] = r->buf == NULL ? -E_INVAL : *(char *)r->buf;
    break;
  case OP_SPIN:  // a slow call: others must wait their turn, not get lost
    for (volatile int i = 0; i < 20000; i++)
      ;
    w[0] = w[1];
    break;
  case OP_DIE:
    exit(0);
  default:
    w[0] = -E_INVAL;
  }
}

// One call of op with two arguments; returns the reply's w[0].
static long call(int server, long op, long x, long y)
{
  struct rpc_msg m = {{op, x, y}};
  return rpc_call(server, &m);
}

// Start a server (a forked child serving handle). Returns its pid.
static int start_server(void)
{
  int server = fork();
  if (server == 0)
    rpc_serve(handle);
  return server;
}

// Child pid's exit status, or -E_AGAIN if it is still there after ms
// milliseconds (it is killed then): a call that waits for ever must not
// hang the test.
static long status_within(int pid, unsigned long ms)
{
  unsigned long end = sys_uptime() + MS(ms);
  while (ENVINFO(pid)->id == (unsigned int)pid && (unsigned long)sys_uptime() < end)
    sys_yield(0);
  int status = -E_AGAIN;
  if (ENVINFO(pid)->id == (unsigned int)pid) {
    kill(pid);
    waitpid(pid, NULL);
  } else {
    waitpid(pid, &status);
  }
  return status;
}

// A client process: connects its own page, writes a letter in it and asks
// the server for the first byte of its page. Exits 0 if it got its letter.
static void page_client(int server, char letter)
{
  char *buf = rpc_buffer(server);
  if (buf == NULL)
    exit(1);
  buf[0] = letter;
  exit(call(server, OP_PEEK, 0, 0) == letter ? 0 : 2);
}

// Calls, payloads, the caller's id, clients that come and go.
static void calls_part(void)
{
  int server = start_server();  // not yet serving: the first call waits for it
  unsigned long retries = exos_rpc_retries;
  check("a call", call(server, OP_ADD, 2, 3), 5);
  retries = exos_rpc_retries - retries;
  if (SYSINFO->harts_up == 1)  // (with several, a yield to a server running elsewhere fails)
    check("... waited for the server to start up, giving it the processor (few retries)",
          retries < 20, 1);
  struct rpc_msg m = {{OP_ADD, 40, 2}};
  check("the reply's other words", rpc_call(server, &m) == 42 && m.w[1] == 2 && m.w[5] == 6, 1);
  int ok = 1;
  for (int i = 0; i < 100; i++)
    ok &= call(server, OP_ADD, i, i) == 2 * i;
  check("100 calls", ok, 1);
  check("the server sees the caller's id", call(server, OP_WHO, 0, 0), getpid());
  check("no shared page yet: the handler says so", call(server, OP_REVERSE, 0, 0), -E_INVAL);
  char *buf = rpc_buffer(server);
  check("a page shared with the server", buf != NULL, 1);
  stop_if_failed("t_rpc");
  strlcpy(buf, "exokernel", PGSIZE);
  check("a payload through it", call(server, OP_REVERSE, 0, 0), 9);
  check("... changed by the server", strcmp(buf, "lenrekoxe"), 0);
  check("the same page the next time", rpc_buffer(server) == buf, 1);

  int pid = fork(), status = -1;
  if (pid == 0)
    page_client(server, 'c');
  waitpid(pid, &status);
  check("a second client's payload travels in its own page", status, 0);
  check("... and the first client's in its own", call(server, OP_PEEK, 0, 0), 'l');
  ok = 1;
  for (int i = 0; i < 70 && ok; i++) {
    if ((pid = fork()) == 0)
      page_client(server, 'a' + i % 26);
    ok = waitpid(pid, &status) == pid && status == 0;
  }
  check("70 clients one after another, each with a page (a gone client's is reused)", ok, 1);
  check("... the first client's page is still its own", call(server, OP_PEEK, 0, 0), 'l');

  if ((pid = fork()) == 0)
    exit(call(getpid(), OP_ADD, 1, 1) == -E_BADENV ? 0 : 1);
  check("calling oneself: E_BADENV", status_within(pid, 20), 0);
  int plain = fork();
  if (plain == 0)
    for (;;)
      sys_yield(0);
  check("calling a process that is no server", call(plain, OP_ADD, 1, 1), -E_NOENTRY);
  kill(plain);
  waitpid(plain, NULL);
  kill(server);
  waitpid(server, NULL);
}

// A client process: 200 slow calls. Exits with -2 if an answer was wrong,
// else how many calls found the server busy and were retried (at
// most 100).
static void busy_client(int server, int id)
{
  unsigned long retries = exos_rpc_retries;
  for (int i = 0; i < 200; i++)
    if (call(server, OP_SPIN, id * 1000 + i, 0) != id * 1000 + i)
      exit(-2);
  retries = exos_rpc_retries - retries;
  exit(retries < 100 ? retries : 100);
}

// Three clients at once.
static void busy_part(void)
{
  int server = start_server(), pid[3];
  call(server, OP_ADD, 0, 0);
  for (int i = 0; i < 3; i++)
    if ((pid[i] = fork()) == 0)
      busy_client(server, i + 1);
  long st[3], retries = 0;
  int done = 1;
  for (int i = 0; i < 3; i++) {
    st[i] = status_within(pid[i], 300);
    done &= st[i] != -E_AGAIN;
    retries += st[i] >= 0 && st[i] <= 100 ? st[i] : 0;
  }
  if (!done)
    printf("t_rpc: a client still waits for its answer long after the others ended\n");
  check("three clients at once, 600 slow calls, every answer right",
        st[0] >= 0 && st[0] <= 100 && st[1] >= 0 && st[1] <= 100 && st[2] >= 0 && st[2] <= 100,
        1);
  check("... some found the server busy and waited their turn", retries > 0, 1);
  check("... and the server still answers", call(server, OP_ADD, 1, 2), 3);
  kill(server);
  waitpid(server, NULL);
}

// A server that dies during a call, and calls after it died.
static void dead_part(void)
{
  int server = start_server();
  check("a call", call(server, OP_ADD, 2, 3), 5);
  int pid = fork();
  if (pid == 0)
    exit(call(server, OP_DIE, 0, 0) == -E_BADENV ? 0 : 1);
  long st = status_within(pid, 20);
  if (st == -E_AGAIN)
    printf("t_rpc: a caller still waits long after its server died\n");
  check("a server that dies during the call: the call fails", st, 0);
  waitpid(server, NULL);
  if ((pid = fork()) == 0)
    exit(call(server, OP_ADD, 1, 1) == -E_BADENV ? 0 : 1);
  check("... and so do later ones", status_within(pid, 20), 0);
  server = start_server();
  call(server, OP_ADD, 1, 1);
  kill(server);
  waitpid(server, NULL);
  if ((pid = fork()) == 0)
    exit(call(server, OP_ADD, 1, 1) == -E_BADENV ? 0 : 1);
  check("a server killed between calls: the next call fails", status_within(pid, 20), 0);
}

int main(int argc, char **argv)
{
  const char *part = argc > 1 ? argv[1] : "";
  if (strcmp(part, "calls") == 0)
    calls_part();
  else if (strcmp(part, "busy") == 0)
    busy_part();
  else if (strcmp(part, "dead") == 0)
    dead_part();
  else
    check("usage: t_rpc calls|busy|dead", 0, 1);
  kcheck("rpc");
  finish("t_rpc");
}
