// Application-specific safe handlers (ASHs) written with ExOS's macros
// (ulib.h), ready to attach to a filter with sys_net_handler.
//
// ash_udp_echo answers a UDP datagram over IPv4 in the kernel, on
// arrival, without waking its owner: it builds the reply in a page its
// owner gives it (the frame copied, Ethernet and IP addresses and UDP
// ports swapped, TTL 64, the IP header's checksum computed again, no UDP
// checksum) and sends it. A frame that is not a whole datagram (shorter
// than its headers say, or with lengths that disagree) goes to the
// filter's ring, for the owner to see. Its filter must accept only
// IPv4 frames with a 20-byte header carrying UDP (user/t_net.c's terms).

#include "ulib/ulib.h"

// The handler. Registers: r1 the frame's length (set by the kernel), r2
// the IP datagram's length, r3 the reply's, r4 and r5 scratch, r6 the
// constant 6, r7 the reply's offset of its source address (6).
static const struct ash_insn udp_echo[] = {
    ash_jlt(1, 0, 42, 29),  //  0 shorter than Ethernet + IP + UDP headers: deliver
    ash_ldf(2, 2, 0, 16),   //  1 r2 = the IP total length
    ash_jlt(2, 0, 28, 27),  //  2 too short for IP + UDP: deliver
    ash_mov(3, 2, 14),      //  3 r3 = 14 + r2: the reply's length
    ash_jlt(1, 3, 0, 25),   //  4 the frame is shorter than that: deliver
    ash_ldf(2, 4, 0, 38),   //  5 r4 = the UDP length
    ash_mov(5, 2, -20U),    //  6 r5 = r2 - 20, the IP payload's length
    ash_jne(4, 5, 0, 22),   //  7 they disagree: deliver
    ash_copy(0, 0, 0, 3),   //  8 the frame (without padding) to the page
    ash_mov(6, 0, 6),       //  9
    ash_mov(7, 0, 6),       // 10
    ash_copy(0, 0, 6, 6),   // 11 Ethernet: to its sender,
    ash_copy(7, 0, 0, 6),   // 12 from the address it was sent to
    ash_ldf(4, 4, 0, 30),   // 13 IP: swap the addresses
    ash_stp(4, 4, 0, 26),   // 14
    ash_ldf(4, 4, 0, 26),   // 15
    ash_stp(4, 4, 0, 30),   // 16
    ash_ldf(2, 4, 0, 34),   // 17 UDP: swap the ports
    ash_stp(2, 4, 0, 36),   // 18
    ash_ldf(2, 4, 0, 36),   // 19
    ash_stp(2, 4, 0, 34),   // 20
    ash_mov(4, 0, 64),      // 21 TTL 64
    ash_stp(1, 4, 0, 22),   // 22
    ash_stp(2, 0, 0, 24),   // 23 the IP header's checksum: 0 while computing it
    ash_mov(4, 0, 20),      // 24
    ash_csum(5, 0, 14, 4),  // 25 r5 = the checksum of the 20-byte header
    ash_stp(2, 5, 0, 24),   // 26
    ash_stp(2, 0, 0, 40),   // 27 no UDP checksum
    ash_send(0, 0, 3),      // 28 send the r3 bytes
    ash_ret(ASH_CONSUME),   // 29 the owner need not know
    ash_ret(ASH_DELIVER),   // 30 not a whole datagram: the owner's business
};

// Attach the UDP echo handler to the caller's filter, with page ppn (the
// caller's) to build replies in. Returns what sys_net_handler returns.
long ash_udp_echo(long filter, unsigned long ppn)
{
  return sys_net_handler(filter, udp_echo, sizeof(udp_echo) / sizeof(udp_echo[0]), &ppn, 1);
}

// What sysinfo.ash[f].stopped says, in words.
const char *ash_stop_reason(unsigned int stopped)
{
#define ASH_STOP_TEXT(n, name, text) [n] = text,
  static const char *const text[] = {[0] = "running", ASH_STOP_LIST(ASH_STOP_TEXT)};
#undef ASH_STOP_TEXT
  return stopped < sizeof(text) / sizeof(text[0]) ? text[stopped] : "unknown";
}
