// nc: a TCP connection's two directions, one after the other.
//
//   nc HOST PORT   connect; send standard input until its end, then copy
//                  what comes back to standard output until the other
//                  end closes
//   nc -l PORT     wait for one connection; copy what comes to standard
//                  output until the other end closes
//
// (One direction at a time: ExOS has one thread of control here, and a
// read of the console or the connection waits.)

#include "ulib/ulib.h"

// Copy everything that comes on c to standard output. Returns 0 or 1.
static int drain(int c)
{
  static char buf[4096];
  long n;
  while ((n = read(c, buf, sizeof(buf))) > 0)
    write(1, buf, n);
  if (n < 0)
    fprintf(2, "nc: %s\n", exos_strerror(n));
  return n < 0;
}

int main(int argc, char **argv)
{
  static char buf[4096];
  unsigned int ip = 0;
  int listening = argc == 3 && strcmp(argv[1], "-l") == 0;
  int port = atoi(argv[argc - 1]);
  if (argc != 3 || port <= 0 || port > 0xFFFF || (!listening && net_parse_ip(argv[1], &ip) < 0)) {
    fprintf(2, "usage: nc HOST PORT | nc -l PORT\n");
    return 2;
  }
  int s = socket(SOCK_STREAM);
  long err = s < 0 ? s : listening ? listen(s, port) : connect(s, ip, port);
  if (err < 0) {
    fprintf(2, "nc: %s\n", exos_strerror(err));
    return 1;
  }
  if (listening) {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      fprintf(2, "nc: %s\n", exos_strerror(c));
      return 1;
    }
    close(s);
    s = c;
  } else {
    long n;
    while ((n = read(0, buf, sizeof(buf))) > 0)
      if ((err = write(s, buf, n)) < 0) {
        fprintf(2, "nc: %s\n", exos_strerror(err));
        return 1;
      }
  }
  int bad = drain(s);
  close(s);
  return bad;
}
