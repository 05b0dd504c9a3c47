// t_rpc: ExOS's RPC over PCT: calls, payloads in a shared page, the caller's
// id, clients calling at once, and a server that dies.

#include "user/tsupport.h"

enum { OP_ADD = 1, OP_WHO, OP_REVERSE, OP_SPIN, OP_DIE };

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

// A client process: 200 slow calls. Returns -2 if an answer was wrong, else
// how many calls found the server busy and were retried (at most 100).
static int client(int server, int id)
{
  unsigned long retries = exos_rpc_retries;
  for (int i = 0; i < 200; i++)
    if (call(server, OP_SPIN, id * 1000 + i, 0) != id * 1000 + i)
      return -2;
  retries = exos_rpc_retries - retries;
  return retries < 100 ? retries : 100;
}

int main(int argc, char **argv)
{
  int server = fork();
  if (server == 0)
    rpc_serve(handle);
  check("a call", call(server, OP_ADD, 2, 3), 5);
  struct rpc_msg m = {{OP_ADD, 40, 2}};
  check("the reply's other words", rpc_call(server, &m) == 42 && m.w[1] == 2, 1);
  int ok = 1;
  for (int i = 0; i < 100; i++)
    ok &= call(server, OP_ADD, i, i) == 2 * i;
  check("100 calls", ok, 1);
  check("the server sees the caller's id", call(server, OP_WHO, 0, 0), getpid());
  check("no shared page yet: the handler says so", call(server, OP_REVERSE, 0, 0), -E_INVAL);
  char *buf = rpc_buffer(server);
  check("a page shared with the server", buf != NULL, 1);
  strlcpy(buf, "exokernel", PGSIZE);
  check("a payload through it", call(server, OP_REVERSE, 0, 0), 9);
  check("... changed by the server", strcmp(buf, "lenrekoxe"), 0);
  check("the same page the next time", rpc_buffer(server) == buf, 1);

  int a = fork();
  if (a == 0)
    exit(client(server, 1));
  int b = fork();
  if (b == 0)
    exit(client(server, 2));
  int mine = client(server, 3), sa = -1, sb = -1;
  waitpid(a, &sa);
  waitpid(b, &sb);
  check("three clients at once, 600 slow calls, every answer right",
        mine >= 0 && sa >= 0 && sb >= 0, 1);
  check("... some found the server busy and waited their turn", mine + sa + sb > 0, 1);

  unsigned long start = rdinstret();
  for (int i = 0; i < 1000; i++)
    call(server, OP_ADD, i, 1);
  printf("rpc round trip: about %lu instructions\n", (rdinstret() - start) / 1000);

  check("calling a program that serves nothing", call(getpid(), OP_ADD, 1, 1), -E_BADENV);
  int plain = fork();
  if (plain == 0)
    for (;;)
      sys_yield(0);
  check("calling a process that is no server", call(plain, OP_ADD, 1, 1), -E_NOENTRY);
  kill(plain);
  waitpid(plain, NULL);
  check("a server that dies during the call: the call fails", call(server, OP_DIE, 0, 0),
        -E_BADENV);
  check("... and so do later ones", call(server, OP_ADD, 1, 1), -E_BADENV);
  waitpid(server, NULL);
  kcheck("rpc");
  finish("t_rpc");
}
