# Lab net: ExOS's IPv4 and UDP (ulib/ip.c, ulib/udp.c). user/t_ip checks
# the pieces one by one (checksums, ip_check, udp_bind: t_ip with no host;
# udp_recvfrom_sendto: all of it, with the host); the other tests drive the usual
# machine (init starts netd, then the shell) from the host's end of its
# Ethernet (labs/netwire.py). The kernel's half of the network and ExOS's
# TCP have their own tests, in labs/network.

import os
import re
import struct
import threading
import time

from gradelib import *
from netwire import *

HERE = os.path.dirname(os.path.abspath(__file__))

# What t_ip's first failing check means, in the order t_ip runs them.
T_IP_SYMPTOMS = [
    (r"^net_sum of 4 bytes[^\n]*FAIL",
     "net_sum adds the bytes two at a time as big-endian 16-bit words (net_get16): "
     "bytes 01 02 03 04 make 0x0102 + 0x0304."),
    (r"^net_sum of 3 bytes[^\n]*FAIL",
     "An odd last byte is the HIGH half of a word whose low half is 0 (RFC 1071): "
     "b[n-1] << 8, not b[n-1]."),
    (r"^net_sum goes on[^\n]*FAIL",
     "net_sum adds to the sum it is given (so that pieces can be summed one after "
     "another) and does not fold: return sum + the words."),
    (r"^net_fold[^\n]*FAIL",
     "net_fold adds the carries (sum >> 16) back into the low 16 bits until there are "
     "none left -- adding them can carry again -- then returns the complement, & 0xFFFF."),
    (r"^ip_pseudo_sum[^\n]*FAIL",
     "The pseudo-header's sum: the high and low 16 bits of each address, the protocol "
     "and the length, added (not folded)."),
    (r"^a good packet is accepted[^\n]*FAIL",
     "ip_check refused a good packet: version 4, header length (h[0] & 15) * 4, total "
     "length (bytes 2-3) within the frame, the header's net_sum folding to 0, no fragment "
     "bits but DF (0x4000), destination 10.0.2.15."),
    (r"^\.\.\. its (source|destination|protocol|payload)[^\n]*FAIL",
     "ip_check must fill *p: src (bytes 12-15), dst (16-19), proto (byte 9), data just "
     "after the header, len = total length - header length."),
    (r"IP options[^\n]*FAIL|28-byte header[^\n]*FAIL",
     "A header may be longer than 20 bytes (options): its length is the low 4 bits of "
     "the first byte, in 32-bit words. The payload starts after it, and the checksum "
     "covers all of it."),
    (r"padded to 60 bytes[^\n]*FAIL|from the IP total length[^\n]*FAIL",
     "A frame shorter than 60 bytes is padded by Ethernet: the packet's length is its "
     "IP total length (bytes 2-3), not what is left of the frame."),
    (r"broadcast address[^\n]*FAIL",
     "A packet to 255.255.255.255 is for us too."),
    (r"10\.0\.2\.99 is dropped[^\n]*FAIL",
     "ip_check must drop a packet whose destination is neither 10.0.2.15 (NET_IP) nor "
     "the broadcast address: the kernel's filter looked at the port only."),
    (r"is dropped: FAIL",
     "ip_check accepted a frame it must drop: check the Ethernet type, the version, a "
     "header length of 20 or more, a total length within the frame, the checksum."),
    (r"counted in ip_bad[^\n]*FAIL",
     "Every packet ip_check drops (but fragments) is counted in net_stats.ip_bad."),
    (r"fragment[^\n]*FAIL",
     "Fragments are dropped and counted in net_stats.ip_fragments: the more-fragments "
     "bit (0x2000) or an offset (the low 13 bits) in bytes 6-7; DF (0x4000) is fine."),
    (r"udp_bind to port 0 is refused[^\n]*FAIL|second bind of the socket[^\n]*FAIL",
     "udp_bind refuses port 0 (and above 65535) and a socket bound already, with "
     "-E_INVAL, before asking the kernel for anything."),
    (r"^udp_bind to port (5555|8)[^\n]*FAIL",
     "udp_bind downloads the filter with eth_listen(terms, n, UDP_RING, udp_in, u) and "
     "keeps the handle and the port in the socket."),
    (r"refused by the kernel[^\n]*FAIL",
     "A second socket's filter for the same port must be refused by the kernel "
     "(-E_CLAIMED): pass eth_listen's error on."),
    (r"binds 5556[^\n]*FAIL",
     "Another port must be free: does the filter compare the destination port "
     "(bytes 36-37 of the frame), in full (mask 0xFFFF)?"),
    (r"UDP's filter does not claim TCP[^\n]*FAIL",
     "udp_bind's filter claimed TCP's packets to the port too: it needs the term for "
     "IP's protocol (byte 23 of the frame: 17, UDP)."),
    (r"after udp_close[^\n]*FAIL",
     "udp_close removes the filter by the handle udp_bind kept (u->listen)."),
    (r"not bound[^\n]*FAIL",
     "udp_recvfrom on a socket that is not bound returns -E_NOTCONN at once."),
    (r"of a 10-byte datagram takes 4[^\n]*FAIL|not one more[^\n]*FAIL",
     "udp_recvfrom copies at most n bytes (the rest of the datagram is lost) and "
     "returns how many it copied."),
    (r"the first 4[^\n]*FAIL|from 10\.0\.2\.2[^\n]*FAIL|port 5000[^\n]*FAIL",
     "udp_in queues the payload (after the 8-byte UDP header) with the sender's address "
     "and source port (bytes 0-1 of the UDP header); udp_recvfrom hands them over."),
    (r"^udp_sendto[^\n]*FAIL",
     "udp_sendto returns n once ip_send has sent the datagram."),
]

# What the host found wrong in the machine's answers, and what it means.
ICMP_SYMPTOMS = [
    (r"^no reply to [0-3] bytes",
     "No answer to the smallest requests, which come padded to 60 bytes: the ICMP "
     "message is the IP total length minus the header, not the rest of the frame."),
    (r"bad checksum",
     "icmp_answer's reply: zero the checksum field, then put net_fold(net_sum(...)) of "
     "the whole message there; ip_send puts the IP header's."),
    (r"not the echo",
     "The reply is type 0 with the request's identifier, sequence number and data."),
    (r"time to live 0",
     "ip_send must set the time to live (byte 8): 64, as most systems do."),
    (r"^no reply",
     "No reply: is ip_send writing the header (version and length 0x45, total length, "
     "protocol, addresses, checksum) and sending the pieces after it with eth_send?"),
]
UDP_SYMPTOMS = [
    (r"no UDP checksum|wrong UDP checksum",
     "udp_sendto's checksum: net_sum over the pseudo-header (ip_pseudo_sum(NET_IP, ip, "
     "IP_UDP, 8 + n)), then the header with its checksum field 0, then the data; folded; "
     "0 is sent as 0xFFFF."),
    (r"time to live 0",
     "ip_send must set the time to live (byte 8): 64, as most systems do."),
    (r"no echo",
     "udpecho got nothing: udp_bind's filter must match the DESTINATION port (bytes 36-37 "
     "of the frame) of UDP (byte 23) over IPv4 with a 20-byte header (byte 14: 0x45)."),
]


def padded(frame):
    """frame padded with zeros to Ethernet's shortest, 60 bytes."""
    return frame + bytes(max(0, 60 - len(frame)))


def hint_from(t, wrong, symptoms):
    """Give the hint of the first of symptoms that one of the lines in
    wrong (what the host found) matches."""
    for rx, hint in symptoms:
        if any(re.search(rx, w) for w in wrong or []):
            t.hint(hint)
            return


def t_ip(t, exercises, extra_args=()):
    """Boot t_ip for exercises 1 to exercises and check that they pass,
    with the hint of the first FAIL. Returns the machine's output."""
    out = t.qemu(bootargs=f"init=t_ip {exercises}", extra_args=extra_args)
    first = re.search(r"^.*: FAIL.*$", out, re.M)  # the checks build on each other
    hint_from(t, [first.group(0)] if first else [], T_IP_SYMPTOMS)
    t.expect(out, r"^t_ip: all \d+ checks passed$", r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out


@test(points=5, timeout=40)
def checksums(t):
    """Exercise 1 (user/t_ip 1): net_sum (an odd last byte the high half),
    net_fold (carries added back until none), ip_pseudo_sum, on known
    bytes."""
    t_ip(t, 1)


@test(points=8, timeout=40)
def ip_check(t):
    """Exercises 1-2 (t_ip 2): ip_check on frames built in memory (an IP
    option, Ethernet padding, the broadcast address accepted; another
    address, a bad checksum, a cut or over-long frame, other versions,
    short headers and fragments dropped and counted)."""
    t_ip(t, 2)


@test(points=5, timeout=40)
def udp_bind(t):
    """Exercises 1-3 (t_ip 3): udp_bind (a port held by another socket
    refused by the kernel, TCP's packets to the same port not claimed, the
    port free after close)."""
    t_ip(t, 3)


@test(points=7, timeout=40,
      hint="t_ip checks the exercises in the README's order; the first FAIL line says most.")
def udp_recvfrom_sendto(t):
    """All of t_ip, with the host on the wire: udp_recvfrom takes 4 bytes
    of a 10-byte datagram and no more, with its sender, and udp_sendto's
    "pong" comes back whole (IP checksum, time to live, UDP checksum over
    the pseudo-header); told "got", t_ip ends."""
    wire, got, done = Wire(), {}, threading.Event()

    def talk():
        try:
            tries = 0  # with no pong after 20 datagrams (10 s), "got" all the same
            while not done.is_set():
                tries += 1
                end = "pong" in got or tries > 20
                wire.send(udp_frame(b"got" if end else b"0123456789", dport=8))
                f = wire.recv(0.5)
                while f is not None:
                    if udp_payload(f) == b"pong":
                        got["pong"] = f
                    else:
                        answer_host(wire, f)
                    f = wire.recv(0.1)
        except OSError:
            pass  # the wire was closed

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    out = t_ip(t, 4, wire.qemu_args())
    done.set()
    thread.join(2)
    wire.sock.close()
    if not re.search(r"^.*: FAIL", out, re.M):
        t.hint_if(out, r"t_ip: waiting on port 8\n(?![\s\S]*udp_recvfrom of 4 bytes)",
                  "No datagram to port 8 reached udp_recvfrom: does udp_bind's filter compare "
                  "the destination port (bytes 36-37) with the port as a plain number (the "
                  "kernel reads the field big-endian), and does udp_in queue what ip_check "
                  "and the UDP checks accept?")
    if not re.search(r"^udp_sendto of \"pong\" back: ok$", out, re.M):
        return  # t_ip stopped before it sent
    problems = reply_problems(got["pong"], b"pong", sport=8, udp_sum=True) if "pong" in got \
        else ["no pong came"]
    for w in problems:
        t.check(False, "the reply to the host: " + w)
    hint_from(t, problems, UDP_SYMPTOMS)


@test(points=10, timeout=90, parent=ip_check)
def icmp_echo_answered(t):
    """netd, started by init, answers ARP requests for 10.0.2.15 and ICMP
    echo requests of every size from 0 to 1472 data bytes, the small ones
    in frames padded to Ethernet's 60 bytes (the same identifier, sequence
    number and data, valid checksums, a time to live); a request with
    a bad IP header checksum, a bad ICMP checksum or cut short gets no
    answer, and netd goes on answering after them."""
    def talk(wire):
        wrong = []
        ask = arp_frame(1, HOST_MAC, HOST_IP, bytes(6), GUEST_IP)
        for _ in range(60):  # until netd is up
            wire.send(ask)
            f = wire.recv(0.5)
            if f is not None and f[12:14] == b"\x08\x06":
                break
        else:
            return ["no answer to ARP"]
        if (f[20:22] != b"\x00\x02" or f[22:28] != GUEST_MAC or f[28:32] != GUEST_IP or
                f[32:38] != HOST_MAC or f[38:42] != HOST_IP or f[:6] != HOST_MAC):
            wrong.append(f"a wrong ARP reply: {f[:42].hex()}")
        sizes = (0, 1, 2, 3, 56, 100, 1000, 1471, 1472)
        for seq, size in enumerate(sizes):
            data = bytes((i * 13 + size) & 0xFF for i in range(size))
            wire.send(padded(ip_frame(1, icmp_echo(8, 0x4242, seq, data))))
            for _ in range(10):
                f = wire.recv(3)
                if f is None or (f[12:14] == b"\x08\x00" and f[23] == 1):
                    break
            if f is None:
                wrong.append(f"no reply to {size} bytes")
                continue
            n = struct.unpack("!H", f[16:18])[0] - 20
            m = f[34:34 + n]
            if checksum(f[14:34]) != 0 or checksum(m + b"\0" * (len(m) % 2)) != 0:
                wrong.append(f"{size} bytes: a bad checksum")
            if m[0] != 0 or struct.unpack("!HH", m[4:8]) != (0x4242, seq) or m[8:] != data:
                wrong.append(f"{size} bytes: not the echo")
            if f[26:30] != GUEST_IP or f[30:34] != HOST_IP or f[:6] != HOST_MAC:
                wrong.append(f"{size} bytes: wrong addresses")
            if f[22] == 0:
                wrong.append(f"{size} bytes: IP time to live 0")
        for bad in (ip_frame(1, icmp_echo(8, 1, 1, b"x" * 10), bad_checksum=True),
                    ip_frame(1, icmp_echo(8, 1, 2, b"y" * 10, bad_checksum=True)),
                    ip_frame(1, icmp_echo(8, 1, 3, b"z" * 10))[:40]):
            wire.send(bad)
        f = wire.recv(1)
        if f is not None and f[12:14] == b"\x08\x00" and f[23] == 1:
            wrong.append(f"an answer to a bad request: {f[:42].hex()}")
        wire.send(ip_frame(1, icmp_echo(8, 7, 7, b"last")))
        f = wire.recv(3)
        if f is None or f[23] != 1 or f[34] != 0:
            wrong.append("no answer after the bad requests")
        return wrong

    out, wrong = shell_with_wire_checked(t, [], talk, timeout=60)
    hint_from(t, wrong, ICMP_SYMPTOMS)


@test(points=10, timeout=60, parent=ip_check)
def ping(t):
    """The guest's `ping 10.0.2.2 -c 3` against this side playing the host
    (answering its ARP request and its echo requests): three replies, each
    with its round trip, and the summary; twice at once (each ping takes
    the replies with its identifier, each asks ARP for itself), with
    `httpd` listening beside them."""
    commands = [(r"\$ ", "httpd &\n"), (r"httpd: port 80", "ping 10.0.2.2 -c 3 &\n"),
                (r"\$ ", "ping 10.0.2.2 -c 3\n")]
    out, _ = shell_with_wire(t, commands, lambda wire: None, timeout=40)
    t.expect(out, r"64 bytes from 10\.0\.2\.2: icmp_seq=0 time=\d+ ticks",
             r"icmp_seq=2 time=\d+ ticks")
    n = len(re.findall(r"--- 10\.0\.2\.2: 3 sent, 3 received, round trip", out))
    t.check(n == 2, f"{n} pings of 2 got all their replies")


@test(points=15, timeout=90, parent=udp_recvfrom_sendto)
def udp_socket_echo(t):
    """`udpecho` (a UDP socket descriptor: recvfrom, connect, write)
    echoes payloads of 0 to 1472 bytes with ports and addresses swapped
    (the last one checked whole: IP checksum and time to live, the UDP
    checksum over the pseudo-header);
    a second `udpecho` on the same port, in another environment while the
    first runs, is refused with the kernel's E_CLAIMED."""
    sizes = (0, 1, 18, 100, 1000, 1471, 1472)

    def talk(wire):
        wrong = []
        for size in sizes:
            payload = bytes((i * 7 + size) & 0xFF for i in range(size))
            if not wire.wait_for(payload, 20, resend=udp_frame(payload)):
                wrong.append(f"no echo of {size} bytes")
                continue
        return wrong

    # (wait_for checks the payload only: reply_problems checks the rest.)
    def talk_checked(wire):
        wrong = talk(wire)
        payload = b"checked"
        wire.send(udp_frame(payload))
        for _ in range(20):
            f = wire.recv(5)
            if f is None or udp_payload(f) == payload:
                break
        problems = reply_problems(f, payload, udp_sum=True) if f else ["none"]
        wrong += ["last datagram: " + w for w in problems]
        return wrong

    commands = [(r"\$ ", f"udpecho 7 {len(sizes) + 1} &\n"), (r"udpecho: port 7\n", "udpecho 7\n"),
                (r"udpecho: echoed", "\n")]
    out, wrong = shell_with_wire_checked(t, commands, talk_checked, timeout=60)
    hint_from(t, wrong, UDP_SYMPTOMS)
    t.expect(out, r"udpecho: port 7: another filter already claims these packets",
             rf"udpecho: echoed {len(sizes) + 1} datagrams; 0 bad")


@test(points=20, timeout=120, parent=ip_check)
def tcp_http_1mib(t):
    """`httpd` (TCP: listen, accept, read, write, close on descriptors)
    serves a 1 MiB file through a forwarded port of 127.0.0.1 to urllib,
    byte for byte, and answers 404 for a file that is not there."""
    http_session(t, "httpd &", timeout=100)


@test(points=10, timeout=60, parent=udp_recvfrom_sendto)
def udp_malformed_dropped(t):
    """Frames for `udpecho`'s port that are bad in each way the stack
    checks -- cut at every byte from the UDP header on, an IP header
    checksum wrong, a UDP checksum wrong, a UDP length past the packet or
    below 8, an IP total length past the frame, a datagram for 10.0.2.99
    (to our Ethernet address), a fragment (more
    fragments set, or an offset) -- are dropped and counted, never echoed;
    a good datagram after them is echoed."""
    good = udp_frame(b"good")
    bad = [good[:n] for n in range(38, len(good))]  # the port is in: they reach udpecho
    ip = bytearray(good)
    ip[24] ^= 0xFF
    bad.append(bytes(ip))
    u = bytearray(good)
    u[40:42] = b"\x12\x34"  # a UDP checksum that is not 0 and wrong
    bad.append(bytes(u))
    for n in (13 + 8, 7):
        u = bytearray(good)
        u[38:40] = struct.pack("!H", n)
        bad.append(bytes(u))
    u = bytearray(good)
    u[16:18] = struct.pack("!H", 200)
    u[24:26] = b"\0\0"
    u[24:26] = struct.pack("!H", checksum(bytes(u[14:34])))
    bad.append(bytes(u))
    u = bytearray(good)
    u[33] = 99  # for 10.0.2.99, sent to our Ethernet address
    u[24:26] = b"\0\0"
    u[24:26] = struct.pack("!H", checksum(bytes(u[14:34])))
    bad.append(bytes(u))
    for frag in (0x2000, 0x0001):
        u = bytearray(good)
        u[20:22] = struct.pack("!H", frag)
        u[24:26] = b"\0\0"
        u[24:26] = struct.pack("!H", checksum(bytes(u[14:34])))
        bad.append(bytes(u))

    def talk(wire):
        if not wire.wait_for(b"first", 20, resend=udp_frame(b"first")):
            return ["udpecho never answered"]
        for f in bad:
            wire.send(f)
            time.sleep(0.02)  # not faster than it takes them: a full ring drops frames
        wrong = []
        f = wire.recv(1)
        while f is not None:
            if udp_payload(f) is not None:
                wrong.append(f"a bad frame echoed: {f[:44].hex()}")
            f = wire.recv(0.5)
        if not wire.wait_for(b"good", 10, resend=good):
            wrong.append("the good datagram after them not echoed")
        return wrong

    out, wrong = shell_with_wire_checked(t, [(r"\$ ", "udpecho 7 2\n")], talk, timeout=50)
    t.hint_if(out, r"udpecho: echoed 2 datagrams; \d+ bad",
              "Some bad frames were echoed: udp_in must drop (and count in udp_bad) a UDP "
              "length below 8 or past the packet and a wrong checksum (one that is not 0); "
              "ip_check drops the rest (a wrong header checksum, a total length past the "
              "frame, another destination, a fragment).")
    t.expect(out, rf"udpecho: echoed 2 datagrams; {len(bad)} bad, 0 dropped")


@test(points=5, timeout=5)
def answers(t):
    """labs/net/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
