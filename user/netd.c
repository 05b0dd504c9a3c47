// netd: the network daemon init starts. It owns what belongs to no single
// program (ulib.h's network section): ARP requests for the machine's
// address and ICMP echo requests to it, and answers both. It sleeps in
// net_wait while nothing comes, so it costs nothing when idle. Without a
// network device it ends at once; a second netd finds the filters taken
// and ends too.

#include "ulib/ulib.h"

// eth_input for ARP requests for our address.
static void arp_in(void *arg, const unsigned char *f, unsigned long len)
{
  arp_answer(f, len);
}

// eth_input for ICMP echo requests.
static void icmp_in(void *arg, const unsigned char *f, unsigned long len)
{
  icmp_answer(f, len);
}

int main(int argc, char **argv)
{
  static const struct dpf_term arp[3] = {
      {12, 2, 0xFFFF, ETH_ARP}, {20, 2, 0xFFFF, 1}, {38, 4, 0xFFFFFFFF, NET_IP}};
  static const struct dpf_term ping[4] = {
      {12, 2, 0xFFFF, ETH_IP}, {14, 1, 0xFF, 0x45}, {23, 1, 0xFF, IP_ICMP}, {34, 1, 0xFF, 8}};
  long err = eth_listen(arp, 3, 2, arp_in, NULL);
  if (err >= 0)
    err = eth_listen(ping, 4, 4, icmp_in, NULL);
  if (err == -E_NONET)
    return 0;
  if (err < 0) {
    printf("netd: %s\n", exos_strerror(err));
    return 1;
  }
  for (;;)
    eth_poll(0);
}
