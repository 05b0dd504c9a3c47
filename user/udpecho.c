// udpecho: a UDP echo server on a socket descriptor.
//
//   udpecho [PORT [COUNT]]   (port 7 by default; COUNT datagrams, then
//                             it ends: 0, the default, for ever)
//
// Each datagram goes back to its sender with the same payload: recvfrom
// says who sent it, connect makes the socket send there, write sends.
// At the end it prints how many it echoed, how many frames for its port
// the stack dropped as bad (IP or UDP header, checksum, length, or a
// fragment) and how many because its queue was full.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  static char buf[UDP_MAX];
  int port = argc > 1 ? atoi(argv[1]) : 7, count = argc > 2 ? atoi(argv[2]) : 0;
  if (argc > 3 || port <= 0 || port > 0xFFFF || count < 0) {
    fprintf(2, "usage: udpecho [PORT [COUNT]]\n");
    return 2;
  }
  int fd = socket(SOCK_DGRAM);
  long err = fd < 0 ? fd : bind(fd, port);
  if (err < 0) {
    printf("udpecho: port %d: %s\n", port, exos_strerror(err));
    return 1;
  }
  printf("udpecho: port %d\n", port);
  int echoed = 0;
  while (count == 0 || echoed < count) {
    unsigned int ip, from;
    long n = recvfrom(fd, buf, sizeof(buf), &ip, &from);
    if (n < 0 || (err = connect(fd, ip, from)) < 0 || (err = write(fd, buf, n)) < 0) {
      printf("udpecho: %s\n", exos_strerror(n < 0 ? n : err));
      return 1;
    }
    echoed++;
  }
  printf("udpecho: echoed %d datagrams; %lu bad, %lu dropped (queue full)\n", echoed,
         net_stats.udp_bad + net_stats.ip_bad + net_stats.ip_fragments, net_stats.udp_full);
  close(fd);
  return 0;
}
