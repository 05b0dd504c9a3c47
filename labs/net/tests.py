# The network's kernel half: virtio-net and packet-filter bindings (DPF).
# The program is user/t_net. The tests that need traffic boot the machine
# with its Ethernet on QEMU's -netdev socket over UDP on 127.0.0.1 (it
# replaces the Makefile's user-mode network): this file is the other end
# of the wire, sending raw frames and reading what the machine sends.
# Nothing here sends a packet anywhere but 127.0.0.1.

import random
import re
import socket
import struct
import threading
import time

from gradelib import *

GUEST_MAC = bytes.fromhex("525400123456")  # QEMU's default for the first NIC
HOST_MAC = bytes.fromhex("020000000001")
HOST_IP, GUEST_IP = bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15])
ECHO_PORT = 7  # user/t_net.c
SINK_PORT = 9
HOST_PORT = 5000


def checksum(data):
    """The Internet checksum of data (an even number of bytes)."""
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(payload, dport=ECHO_PORT, sport=HOST_PORT):
    """An Ethernet frame carrying an IPv4 UDP datagram from the host to
    the machine (IP header checksummed, no UDP checksum)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 1, 0x4000, 64, 17, 0,
                     HOST_IP, GUEST_IP)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return GUEST_MAC + HOST_MAC + b"\x08\x00" + ip + udp + payload


def udp_payload(frame):
    """The payload of a UDP datagram the machine sent, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    return frame[42:14 + struct.unpack("!H", frame[16:18])[0]]


def reply_problems(frame, payload):
    """What is wrong with frame as the echo of udp_frame(payload)."""
    wrong = []
    if frame[:6] != HOST_MAC or frame[6:12] != GUEST_MAC:
        wrong.append("Ethernet addresses not swapped")
    if len(frame) < 42:
        return wrong + [f"only {len(frame)} bytes"]
    if checksum(frame[14:34]) != 0:
        wrong.append("bad IP header checksum")
    if frame[26:30] != GUEST_IP or frame[30:34] != HOST_IP:
        wrong.append("IP addresses not swapped")
    if struct.unpack("!HH", frame[34:38]) != (ECHO_PORT, HOST_PORT):
        wrong.append("UDP ports not swapped")
    if udp_payload(frame) != payload:
        wrong.append("payload differs")
    return wrong


class Wire:
    """The host's end of the machine's Ethernet: QEMU sends its frames to
    our UDP socket, and reads ours from a port of its own, both on
    127.0.0.1."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.qemu_port = s.getsockname()[1]

    def qemu_args(self):
        """The -netdev that connects the machine to this wire."""
        return ["-netdev", f"socket,id=net0,udp=127.0.0.1:{self.sock.getsockname()[1]},"
                           f"localaddr=127.0.0.1:{self.qemu_port}"]

    def send(self, frame):
        self.sock.sendto(frame, ("127.0.0.1", self.qemu_port))

    def recv(self, seconds):
        """The next frame the machine sends within seconds, or None."""
        self.sock.settimeout(seconds)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return None

    def wait_for(self, payload, seconds, resend=None):
        """Read frames until a UDP datagram carrying payload, within
        seconds (sending resend every half second meanwhile, if given).
        Returns whether it came."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if resend is not None:
                self.send(resend)
            frame = self.recv(0.5)
            if frame is not None and udp_payload(frame) == payload:
                return True
        return False


def with_traffic(t, talk, timeout):
    """Boot t_net's echo server on a wire and run talk(wire) beside it once
    the server says it is ready; returns (the machine's output, what talk
    returned). talk ends the server (quit)."""
    return on_wire(t, "t_net echo", talk, timeout)


def counters(t, out):
    """The kernel's network counters t_net printed, as a dict."""
    m = re.search(r"^t_net: counters: (.*)$", out, re.M)
    if m is None:
        t.fail("t_net printed no counters")
    words = m.group(1).split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


@test(points=20, timeout=60)
def filter_bindings(t):
    """Packet filters: refused at download when they read past the largest
    frame, have too many terms or bad ones; a filter for a port another
    environment holds refused, and so is one for part of its frames; quotas; sends checked; an
    environment destroyed with its filter installed leaves nothing."""
    out = t.qemu(bootargs="init=t_net")
    t.expect(out, r"^rvexo: network device \(virtio-net\)$", r"^t_net: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=20, timeout=60)
def udp_echo(t):
    """A UDP echo server written by hand on the filter and ring (user/t_net):
    each datagram comes back with addresses and ports swapped, a valid IP
    checksum and the same payload, from empty to the largest."""
    def talk(wire):
        wrong = []
        for size in (0, 1, 18, 100, 1000, 1472):
            payload = bytes((i * 7 + size) & 0xFF for i in range(size))
            wire.send(udp_frame(payload))
            for _ in range(20):
                frame = wire.recv(5)
                if frame is None or udp_payload(frame) == payload:
                    break
            if frame is None:
                wrong.append(f"no answer to {size} bytes")
            else:
                wrong += [f"{size} bytes: {w}" for w in reply_problems(frame, payload)]
        wire.send(udp_frame(b"quit"))
        wire.wait_for(b"bye", 10)
        return wrong
    out, wrong = with_traffic(t, talk, timeout=60)
    for w in wrong or []:
        t.check(False, w)
    t.expect(out, r"^t_net: echoed 6 datagrams, 0 not whole$")


def free_udp_port():
    """A UDP port of 127.0.0.1 that nothing uses just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@test(points=10, timeout=60)
def udp_forwarded_in(t):
    """The server behind QEMU's user-mode network in restricted mode, as
    `make qemu` runs it, with a UDP port of 127.0.0.1 forwarded to the
    machine's port 7: QEMU's stack asks for the machine's Ethernet address
    (the server answers ARP by hand) and delivers the datagrams. (The
    answers go no further: in restricted mode QEMU's stack (libslirp)
    drops every UDP datagram the machine sends, forwarded port or not;
    a forwarded TCP port works both ways.) The host cannot see when the
    server is up, so it sends for a few seconds, then says quit."""
    port = free_udp_port()

    def talk():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(30):
                s.sendto(b"forwarded %d" % i, ("127.0.0.1", port))
                time.sleep(0.1)
            for _ in range(50):
                s.sendto(b"quit", ("127.0.0.1", port))
                time.sleep(0.2)

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    netdev = f"user,id=net0,restrict=on,ipv6=off,hostfwd=udp:127.0.0.1:{port}-:7"
    out = t.qemu(bootargs="init=t_net echo", extra_args=["-netdev", netdev])
    thread.join(1)
    m = re.search(r"^t_net: echoed (\d+) datagrams", out, re.M)
    t.check(m is not None and int(m.group(1)) > 0, "no datagram came through the forwarded port")
    t.expect(out, r"^t_net: all \d+ checks passed$", r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=20, timeout=60)
def malformed_frames(t):
    """Frames of every length from 1 to 64 (no filter's), a UDP frame to the
    echo port cut at every byte before its payload, and frames over the
    MTU: each dropped and counted as malformed (shorter than an Ethernet
    header, longer than 1514 bytes) or unmatched (no filter accepts it;
    a field past the frame's end matches nothing), or, cut after the
    port, given to the server, which finds it not whole. (Lengths only
    from 1: QEMU's socket transport takes an empty datagram for the end of
    the connection. QEMU itself drops a frame longer than a receive
    buffer, a page: the 9000-byte one never reaches the kernel.)"""
    def talk(wire):
        for n in range(1, 65):
            wire.send(bytes(n))
        whole = udp_frame(b"")
        for n in range(1, 42):
            wire.send(whole[:n])
        for n in (1515, 2000, 4000, 9000):
            wire.send(udp_frame(bytes(n - 42)))
        wire.send(udp_frame(b"quit"))
        return wire.wait_for(b"bye", 20)
    out, bye = with_traffic(t, talk, timeout=60)
    t.check(bye, "the server never said bye")
    c = counters(t, out)
    want = {"malformed": 13 + 13 + 3, "unmatched": 51 + 24, "overflow": 0}
    for name, n in want.items():
        t.check(c.get(name) == n, f"{c.get(name)} frames counted {name}, not {n}")
    t.check(c.get("received") == 29 + 75 + 5, f"{c.get('received')} frames received, not 109")
    t.expect(out, r"^t_net: echoed 0 datagrams, 4 not whole$")


@test(points=20, timeout=90)
def flood(t):
    """4,000 frames as fast as the host sends them (echo datagrams, frames
    for a child's filter, frames no filter wants, malformed ones), the
    child destroyed half-way while its frames still come: no panic, kcheck
    OK, and the counters add up to no more than was sent."""
    sent = 4000

    def talk(wire):
        for i in range(sent // 4):
            if i == sent // 8:  # a pause, so that the host's socket drops no kill
                for _ in range(3):
                    time.sleep(0.2)
                    wire.send(udp_frame(b"kill"))
                time.sleep(0.2)
            wire.send(udp_frame(b"flood %d" % i))
            wire.send(udp_frame(b"sink %d" % i, dport=SINK_PORT))
            wire.send(bytes(60))
            wire.send(bytes(5))
        return wire.wait_for(b"bye", 60, resend=udp_frame(b"quit"))
    out, bye = with_traffic(t, talk, timeout=90)
    t.check(bye, "the server never said bye")
    c = counters(t, out)
    t.check(0 < c["received"] <= sent + 200, f"{c['received']} frames received of {sent} sent")
    m = re.search(r"^t_net: echoed (\d+) datagrams", out, re.M)
    delivered = int(m.group(1)) + 1 if m else 0
    t.check(c["received"] >= c["malformed"] + c["unmatched"] + c["overflow"] + delivered,
            f"the counters do not add up: {c}")
    t.expect(out, r"^t_net: destroyed the sink child, frames for it coming: 0$")


# Application-specific safe handlers (kernel/ash.c), ORs of filters and the
# default filter: the program is user/t_ash; `t_ash serve` is the machine
# the tests below talk to (its filters are listed at the top of the file).

def on_wire(t, prog, talk, timeout, extra_args=()):
    """Boot with init=prog on a wire and run talk(wire) beside it once the
    machine says "ready"; returns (the machine's output, what talk
    returned), having checked that the program passed its checks and the
    kernel is whole. talk ends the program."""
    wire = Wire()
    result = {}

    def run():
        try:
            if not wire.wait_for(b"ready", timeout):
                result["error"] = "the machine never said it was ready"
                return
            result["value"] = talk(wire)
        except Exception as e:  # reported below, in the test's thread
            result["error"] = f"{type(e).__name__}: {e}"

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    out = t.qemu(bootargs=f"init={prog}", extra_args=wire.qemu_args() + list(extra_args),
                 timeout=timeout)
    thread.join(5)
    wire.sock.close()
    if "error" in result:
        t.fail(result["error"])
    name = prog.split()[0]
    t.expect(out, rf"^{name}: all \d+ checks passed$", r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out, result.get("value")


def ash_serve(t, talk, timeout, icount=False):
    """Run talk beside `t_ash serve` (on_wire), with -icount shift=0 if
    icount, so that rdinstret counts instructions."""
    return on_wire(t, "t_ash serve", talk, timeout, ["-icount", "shift=0"] if icount else [])


def ash_quit(wire):
    """Tell t_ash serve to quit (port 8) until it says bye."""
    return wire.wait_for(b"bye", 60, resend=udp_frame(b"quit", dport=8))


def ash_report(t, out):
    """What t_ash serve printed on quit: the frames taken from each ring,
    each handler's line, and the kernel's counters, as dicts."""
    m = re.search(r"^t_ash: woken (\d+) times; frames taken from the rings: (.*)$", out, re.M)
    c = re.search(r"^t_ash: counters: (.*)$", out, re.M)
    if m is None or c is None:
        t.fail("t_ash printed no report")
    words, counts = m.group(2).split(), c.group(1).split()
    rings = {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}
    rings["wakeups"] = int(m.group(1))
    handlers = {}
    for h in re.finditer(r"^t_ash: handler (\w+): runs (\d+) sent (\d+) stopped (\d+) \((.*)\) "
                         r"at (\d+) instret (\d+) last (\d+)$", out, re.M):
        handlers[h.group(1)] = {"runs": int(h.group(2)), "sent": int(h.group(3)),
                                "stopped": int(h.group(4)), "why": h.group(5),
                                "pc": int(h.group(6)), "instret": int(h.group(7)),
                                "last": int(h.group(8))}
    return rings, handlers, {counts[i]: int(counts[i + 1]) for i in range(0, len(counts), 2)}


def echo_reply(frame):
    """The reply ash_udp_echo builds for frame, byte for byte."""
    n = 14 + struct.unpack("!H", frame[16:18])[0]
    ip = bytearray(frame[14:34])
    ip[8] = 64
    ip[12:16], ip[16:20] = frame[30:34], frame[26:30]
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    return (frame[6:12] + frame[0:6] + frame[12:14] + bytes(ip) + frame[36:38] + frame[34:36] +
            frame[38:40] + b"\0\0" + frame[42:n])


@test(points=20, timeout=60)
def ash_udp_echo(t):
    """A handler in the kernel (ulib/ash.c's ash_udp_echo) answers UDP
    echoes of every size while its owner sleeps in net_wait: each reply
    byte-exact (addresses and ports swapped, a good IP checksum), the
    owner never woken for them and its echo ring empty; a datagram whose
    lengths disagree goes to the ring instead."""
    sizes = (1472, 1000, 100, 18, 1, 0)  # the smallest last: its cost is reported

    def talk(wire):
        wrong = []
        bad = bytearray(udp_frame(b"not whole"))
        bad[38:40] = struct.pack("!H", 100)  # a UDP length the IP length disagrees with
        wire.send(bytes(bad))
        for size in sizes:
            payload = bytes((i * 5 + size) & 0xFF for i in range(size))
            frame = udp_frame(payload)
            wire.send(frame)
            got = None
            for _ in range(20):
                got = wire.recv(5)
                if got is None or udp_payload(got) == payload:
                    break
            if got is None:
                wrong.append(f"no answer to {size} bytes")
            elif got != echo_reply(frame):
                wrong += [f"{size} bytes: {w}" for w in reply_problems(got, payload)] or \
                    [f"{size} bytes: the reply differs from the expected bytes"]
        ash_quit(wire)
        return wrong
    out, wrong = ash_serve(t, talk, timeout=60, icount=True)
    for w in wrong or []:
        t.check(False, w)
    rings, handlers, c = ash_report(t, out)
    echo = handlers.get("echo", {})
    t.check(echo.get("runs") == len(sizes) + 1 and echo.get("sent") == len(sizes),
            f"the echo handler ran {echo.get('runs')} times and sent {echo.get('sent')} frames, "
            f"not {len(sizes) + 1} and {len(sizes)}")
    t.check(echo.get("stopped") == 0, f"the echo handler was stopped: {echo.get('why')}")
    t.check(rings.get("echo") == 1, f"{rings.get('echo')} frames in the echo ring, not 1 "
            "(the datagram that is not whole)")
    t.check(c.get("consumed") == len(sizes), f"{c.get('consumed')} frames consumed, not {len(sizes)}")
    if echo.get("runs"):
        t.figures.append(f"ash_udp_echo: {echo['instret'] // echo['runs']} instructions a frame "
                         f"on average, {echo['last']} for an empty datagram (-icount, rdinstret)")


@test(points=20, timeout=60)
def ash_stopped(t):
    """Handlers that break a rule at run time are stopped and their owner
    told (sysinfo.ash: why, and at which instruction): one reads past the
    end of a short frame, one writes past its page, one sends more than
    ASH_SENDS_PER_RUN frames (the ones before went out). Each frame that
    stopped a handler, and the next for its filter, go to the ring; kcheck
    holds; and the kernel goes on answering echoes with the echo handler,
    until its owner frees the handler's page: the next frame stops it
    (nothing is pinned; the kernel checks the pages before each run)."""
    def talk(wire):
        for port in (11, 12, 13):
            wire.send(udp_frame(b"stop %d" % port, dport=port))
            time.sleep(0.2)
            wire.send(udp_frame(b"again %d" % port, dport=port))
        sent_back = 0
        end = time.monotonic() + 3
        while time.monotonic() < end:
            frame = wire.recv(0.5)
            sent_back += frame is not None and udp_payload(frame) == b"stop 13"
            if sent_back == 4:
                break
        echoed = wire.wait_for(b"after", 10, resend=udp_frame(b"after"))
        wire.send(udp_frame(b"lose", dport=8))
        time.sleep(0.5)
        wire.send(udp_frame(b"lost"))
        answered = wire.wait_for(b"lost", 1)
        ash_quit(wire)
        return sent_back, echoed and not answered
    out, value = ash_serve(t, talk, timeout=60)
    sent_back, echoed = value or (0, False)
    t.check(echoed, "no echo answered after the handlers were stopped, or one answered "
            "after its owner freed the echo handler's page")
    t.check(sent_back == 4, f"{sent_back} frames of the handler that sends too many, not 4")
    rings, handlers, c = ash_report(t, out)
    want = {"badread": (1, 0, "read past the frame"), "badwrite": (2, 2, "address outside"),
            "badsend": (4, 5, "a send refused"), "echo": (3, 0, "no longer owns")}
    for name, (stopped, pc, why) in want.items():
        h = handlers.get(name)
        if h is None:
            t.check(False, f"no report of the {name} handler")
            continue
        t.check(h["stopped"] == stopped and h["pc"] == pc and why in h["why"],
                f"{name}: stopped {h['stopped']} ({h['why']}) at {h['pc']}, not {stopped} at {pc}")
        if name != "echo":
            t.check(h["runs"] == 1, f"{name}: ran {h['runs']} times, not once (it was stopped)")
            t.check(rings.get(name) == 2, f"{name}: {rings.get(name)} frames in its ring, not 2")
    t.check(rings.get("echo") == 1, f"{rings.get('echo')} frames in the echo ring, not 1 (the "
            "one that found its handler's page gone)")
    t.check(handlers.get("badsend", {}).get("sent") == 4, "the handler that sends too many: "
            f"{handlers.get('badsend', {}).get('sent')} frames sent, not 4")


@test(points=20, timeout=60)
def filter_or_default(t):
    """One filter, an OR of two UDP ports, gets the frames of both into its
    ring; the default filter gets every frame no filter accepts (a port
    nobody holds, another protocol, a short junk frame), counted as
    unmatched too; the counters add up."""
    def talk(wire):
        frames = []
        for i in range(5):
            frames += [udp_frame(b"nine %d" % i, dport=9), udp_frame(b"ten %d" % i, dport=10),
                       udp_frame(b"nobody %d" % i, dport=12345)]
        frames += [GUEST_MAC + HOST_MAC + b"\x86\xdd" + bytes(40), bytes(20)]  # IPv6, junk
        for frame in frames:
            wire.send(frame)
            time.sleep(0.05)  # the rings are four pages: the server drains them meanwhile
        time.sleep(0.5)
        return ash_quit(wire)
    out, bye = ash_serve(t, talk, timeout=60)
    t.check(bye, "the server never said bye")
    rings, _, c = ash_report(t, out)
    t.check(rings.get("sink") == 10, f"{rings.get('sink')} frames for ports 9 or 10, not 10")
    t.check(rings.get("default") == 7, f"{rings.get('default')} frames to the default filter, not 7")
    t.check(c.get("defaulted") == 7 and c.get("unmatched") == 7,
            f"counted {c.get('unmatched')} unmatched and {c.get('defaulted')} defaulted, not 7")


@test(points=20, timeout=60)
def ash_bindings(t):
    """With no traffic (user/t_ash): hostile handlers refused at download,
    each with its own error (too long, a jump backward or past the end,
    one that can run off its end, bad opcodes, registers, unused fields
    or verdict, constant addresses past any frame or its pages, pages not
    its own, another environment's filter or pages); ORs and the default
    filter refused where they would take another environment's frames; a
    child destroyed with an OR, handlers and filters installed leaves
    nothing (sysinfo's handlers, its ports, every page free again)."""
    out = t.qemu(bootargs="init=t_ash")
    t.expect(out, r"^t_ash: all \d+ checks passed$", r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=20, timeout=120)
def flood_100k(t):
    """100,000 frames as fast as the host sends them: a quarter each to a
    handler that counts and consumes them, to an OR filter's ring, to
    nobody (the default filter's ring), and malformed. No panic, kcheck
    OK, the kernel's counters add up exactly (every frame received is
    malformed, unmatched, consumed, put in a ring or dropped for a full
    one), the handler counted every frame it ran on, and no page lost.
    (QEMU and the host's socket drop what the machine cannot take in
    time: the machine receives what it can.)"""
    sent = 100000
    frames = [udp_frame(b"count", dport=14), udp_frame(b"sink", dport=9),
              udp_frame(b"nobody", dport=12345), bytes(5)]

    def talk(wire):
        start = time.monotonic()
        for i in range(sent):
            wire.send(frames[i % 4])
        seconds = time.monotonic() - start
        return seconds, ash_quit(wire)
    start = time.monotonic()
    out, value = ash_serve(t, talk, timeout=120)
    seconds, bye = value or (0, False)
    t.check(bye, "the server never said bye")
    rings, handlers, c = ash_report(t, out)
    t.check(0 < c["received"] <= sent + 200, f"{c['received']} frames received of {sent} sent")
    t.check(handlers.get("counter", {}).get("runs", 0) > 0, "the counting handler never ran")
    t.check(handlers.get("counter", {}).get("stopped") == 0, "the counting handler was stopped")
    t.note(f"sent {sent} frames in {seconds:.1f} s; the test took {time.monotonic() - start:.1f} s; "
           f"counters {c}")




# ExOS's network stack (ulib/ether.c, ip.c, udp.c, tcp.c, socket.c) and
# its programs (user/netd.c, ping.c, udpecho.c, httpd.c, nc.c). These
# boot the usual machine (init starts netd, then the shell) and type
# commands to the shell.

def ip_frame(proto, payload, src=HOST_IP, dst=GUEST_IP, dst_mac=GUEST_MAC, src_mac=HOST_MAC,
             bad_checksum=False):
    """An Ethernet frame carrying an IPv4 packet (header checksummed,
    wrongly if bad_checksum)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                     src, dst)
    s = checksum(ip) ^ (0x5555 if bad_checksum else 0)
    return dst_mac + src_mac + b"\x08\x00" + ip[:10] + struct.pack("!H", s) + ip[12:] + payload


def icmp_echo(kind, ident, seq, data, bad_checksum=False):
    """An ICMP echo message (kind 8: request, 0: reply)."""
    m = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    s = checksum(m + b"\0" * (len(m) % 2)) ^ (0x1111 if bad_checksum else 0)
    return m[:2] + struct.pack("!H", s) + m[4:]


def arp_frame(op, sender_mac, sender_ip, target_mac, target_ip, dst_mac=b"\xff" * 6):
    """An ARP request (op 1) or reply (op 2) over Ethernet."""
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac, sender_ip, target_mac,
                       target_ip)
    return dst_mac + sender_mac + b"\x08\x06" + body


def answer_host(wire, frame):
    """Be the host 10.0.2.2 on the wire: answer an ARP request for it and
    an ICMP echo request to it. Returns what frame was ("arp", "ping", or
    None)."""
    if frame[12:14] == b"\x08\x06" and len(frame) >= 42 and frame[38:42] == HOST_IP:
        wire.send(arp_frame(2, HOST_MAC, HOST_IP, frame[22:28], frame[28:32], frame[6:12]))
        return "arp"
    if (frame[12:14] == b"\x08\x00" and len(frame) >= 42 and frame[23] == 1 and frame[34] == 8
            and frame[30:34] == HOST_IP):
        n = struct.unpack("!H", frame[16:18])[0] - 20
        req = frame[34:34 + n]
        reply = icmp_echo(0, *struct.unpack("!HH", req[4:8]), req[8:])
        wire.send(ip_frame(1, reply, src=HOST_IP, dst=frame[26:30], dst_mac=frame[6:12]))
        return "ping"
    return None


DONE_PORT = 9  # the last command of every run: `udpecho 9 1`


def shell_with_wire(t, commands, talk, timeout):
    """Boot the machine on a wire, type commands (a list of (regex, text))
    to the shell, then `udpecho 9 1`, and run talk(wire) beside it. When
    talk returns, send "done" to port 9 until it comes back (being the
    host 10.0.2.2 meanwhile: answer_host); the run ends once the machine
    says it echoed it. Returns (the machine's output, what talk returned)."""
    wire = Wire()
    result = {}

    def run():
        try:
            result["value"] = talk(wire)
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                wire.send(udp_frame(b"done", dport=DONE_PORT))
                f = wire.recv(0.5)
                while f is not None and udp_payload(f) != b"done":
                    answer_host(wire, f)
                    f = wire.recv(0.5)
                if f is not None:
                    break
        except Exception as e:
            result["error"] = f"{type(e).__name__}: {e}"

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    commands = list(commands) + [(r"\$ ", f"udpecho {DONE_PORT} 1\n")]
    out = t.qemu(send=commands, stop=r"udpecho: echoed 1 datagrams", extra_args=wire.qemu_args(),
                 timeout=timeout)
    thread.join(5)
    wire.sock.close()
    if "error" in result:
        t.fail(result["error"])
    t.expect(out, r"udpecho: echoed 1 datagrams")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out, result.get("value")


@test(points=10, timeout=90)
def icmp_echo_answered(t):
    """netd, started by init, answers ARP requests for 10.0.2.15 and ICMP
    echo requests of every size from 0 to 1472 data bytes (the same
    identifier, sequence number and data, a valid checksum); a request with
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
            wire.send(ip_frame(1, icmp_echo(8, 0x4242, seq, data)))
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

    out, wrong = shell_with_wire(t, [], talk, timeout=60)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)


@test(points=10, timeout=60)
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


@test(points=10, timeout=90)
def udp_socket_echo(t):
    """`udpecho` (a UDP socket descriptor: recvfrom, connect, write)
    echoes payloads of 0 to 1472 bytes with ports and addresses swapped;
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
        wrong += ["last datagram: " + w for w in (reply_problems(f, payload) if f else ["none"])]
        return wrong

    commands = [(r"\$ ", f"udpecho 7 {len(sizes) + 1} &\n"), (r"udpecho: port 7\n", "udpecho 7\n"),
                (r"udpecho: echoed", "\n")]
    out, wrong = shell_with_wire(t, commands, talk_checked, timeout=60)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)
    t.expect(out, r"udpecho: port 7: another filter already claims these packets",
             rf"udpecho: echoed {len(sizes) + 1} datagrams; 0 bad")


def free_tcp_port():
    """A TCP port of 127.0.0.1 that nothing uses just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, seconds):
    """GET url with urllib, trying again until seconds have passed (the
    server may not be up yet). Returns (status, body), or (None, error)."""
    import urllib.error
    import urllib.request
    end, err = time.monotonic() + seconds, None
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (OSError, ValueError) as e:  # refused, reset, timed out: not up yet
            err = e
            time.sleep(0.5)
    return None, f"{type(err).__name__}: {err}"


def http_session(t, httpd, timeout):
    """Boot the usual machine with QEMU's user-mode network in restricted
    mode, a free TCP port of 127.0.0.1 forwarded to the machine's port 80,
    run the shell command httpd, then fetch /mib, /nothing and /done (the
    run ends when httpd logs the last) through the forwarded port. Checks /mib byte for byte (its hash: the Makefile
    makes it) and the 404. Returns the machine's output."""
    import hashlib
    port = free_tcp_port()
    got = {}

    def talk():
        got["mib"] = fetch(f"http://127.0.0.1:{port}/mib", timeout / 2)
        got["missing"] = fetch(f"http://127.0.0.1:{port}/nothing", 20)
        fetch(f"http://127.0.0.1:{port}/done", 20)  # the run ends when httpd logs it

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    netdev = f"user,id=net0,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:{port}-:80"
    out = t.qemu(send=[(r"\$ ", httpd + "\n")], stop=r"httpd: GET /done 404",
                 extra_args=["-netdev", netdev], timeout=timeout)
    thread.join(10)
    want = hashlib.sha256(random.Random(15).randbytes(1 << 20)).hexdigest()
    status, body = got.get("mib", (None, "no answer"))
    t.check(status == 200, f"/mib: status {status}: {body if status is None else ''}")
    if status == 200:
        t.check(len(body) == 1 << 20, f"/mib: {len(body)} bytes, not 1 MiB")
        t.check(hashlib.sha256(body).hexdigest() == want, "/mib: the bytes differ")
    status, body = got.get("missing", (None, "no answer"))
    t.check(status == 404, f"/nothing: status {status}, not 404")
    t.expect(out, r"httpd: GET /mib 200 1048576 bytes")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out


@test(points=20, timeout=120)
def tcp_http_1mib(t):
    """`httpd` (TCP: listen, accept, read, write, close on descriptors)
    serves a 1 MiB file through a forwarded port of 127.0.0.1 to urllib,
    byte for byte, and answers 404 for a file that is not there."""
    http_session(t, "httpd &", timeout=100)


@test(points=20, timeout=150)
def tcp_retransmit(t):
    """The same with httpd's stack told to drop every 7th TCP segment it
    receives and every 7th it sends (`httpd 80 -d 7`): the file still
    arrives byte for byte, through retransmissions on timeout (a count
    above 0, printed by httpd) and in-order delivery."""
    out = http_session(t, "httpd 80 -d 7 &", timeout=130)
    m = re.search(r"httpd: GET /mib 200 1048576 bytes \(retransmissions (\d+)\)", out)
    t.check(m is not None and int(m.group(1)) > 0, "no retransmission counted")


@test(points=10, timeout=60)
def nc(t):
    """`nc` as a client: `echo ... | nc 10.0.2.100 1234` reaches a TCP
    server of this side on 127.0.0.1 through QEMU's guestfwd (restricted
    mode lets the machine reach that address only), sends its standard
    input and prints the answer; `nc -l 8080 &`, started first, takes a
    connection through a forwarded port and prints what comes; `udpecho`
    beside them takes a datagram through a forwarded UDP port. (QEMU's
    guestfwd does not pass the end of the server's stream on, so the
    client nc still waits when the run ends.)"""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(40)
    port = free_tcp_port()
    got = {}

    def serve():
        try:
            c, _ = server.accept()
            with c:
                c.settimeout(20)
                data = b""
                while b"\n" not in data:
                    more = c.recv(4096)
                    if not more:
                        break
                    data += more
                got["line"] = data
                c.sendall(b"hello from the host\n")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.sendto(b"to udpecho", ("127.0.0.1", udp_port))
            for _ in range(80):  # then be the client of nc -l
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                        s.sendall(b"to the listening nc\n")
                        time.sleep(0.5)
                    break
                except OSError:
                    time.sleep(0.25)
        except Exception as e:
            got["error"] = f"{type(e).__name__}: {e}"

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    udp_port = free_udp_port()
    netdev = (f"user,id=net0,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:{port}-:8080,"
              f"hostfwd=udp:127.0.0.1:{udp_port}-:7,"
              f"guestfwd=tcp:10.0.2.100:1234-tcp:127.0.0.1:{server.getsockname()[1]}")

    out = t.qemu(send=[(r"\$ ", "udpecho 7 1 &\n"), (r"\$ ", "nc -l 8080 &\n"),
                       (r"\$ ", "echo hello from the guest | nc 10.0.2.100 1234\n")],
                 stop=r"^to the listening nc$", extra_args=["-netdev", netdev], timeout=50)
    thread.join(5)
    server.close()
    t.check("error" not in got, got.get("error", ""))
    t.check(got.get("line") == b"hello from the guest\n", f"the server got {got.get('line')!r}")
    t.expect(out, r"^hello from the host$", r"^to the listening nc$",
             r"udpecho: echoed 1 datagrams")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap", r"^nc: ")


def tcp_frame(sport, dport, seq, ack, flags, payload=b"", window=8192):
    """An Ethernet frame carrying a TCP segment from the host to the
    machine, checksummed. flags: a string of F S R P A."""
    bits = sum(b for b, c in zip((1, 2, 4, 8, 16), "FSRPA") if c in flags)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits, window, 0, 0)
    pseudo = HOST_IP + GUEST_IP + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    data = pseudo + h + payload
    s = checksum(data + b"\0" * (len(data) % 2))
    return ip_frame(6, h[:16] + struct.pack("!H", s) + h[18:] + payload)


def tcp_reply(wire, sport, seconds=3):
    """The next TCP segment the machine sends to port sport: (flags, seq,
    ack, payload), or None."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        f = wire.recv(0.5)
        if f is None or answer_host(wire, f) or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        h = f[34:]
        if struct.unpack("!H", h[2:4])[0] != sport:
            continue
        n = struct.unpack("!H", f[16:18])[0] - 20 - (h[12] >> 4) * 4
        flags = "".join(c for b, c in zip((1, 2, 4, 8, 16), "FSRPA") if h[13] & b)
        return flags, *struct.unpack("!II", h[4:12]), h[(h[12] >> 4) * 4:][:n]
    return None


@test(points=10, timeout=60)
def tcp_handshake_and_reset(t):
    """Raw TCP against `httpd`: a SYN to port 80 gets a SYN-ACK
    acknowledging it; a bad checksum is ignored; a segment for no
    connection (an ACK from a port that never connected) gets a RST whose
    sequence number is its acknowledgement; a RST with a wrong sequence
    number does not close the opened connection, on which a request is
    answered (404) and closed with FIN."""
    def talk(wire):
        wrong = []
        for _ in range(40):  # until httpd listens
            wire.send(tcp_frame(40000, 80, 1000, 0, "S"))
            r = tcp_reply(wire, 40000, 0.5)
            if r is not None:
                break
        else:
            return ["no answer to SYN"]
        if r[0] != "SA" or r[2] != 1001:
            wrong.append(f"SYN answered {r[:3]}, not SA with ack 1001")
        iss = r[1]
        bad = tcp_frame(40001, 80, 5, 77, "A")
        wire.send(bad[:50] + bytes([bad[50] ^ 0xFF]) + bad[51:])  # its checksum wrong
        wire.send(tcp_frame(40002, 80, 5, 777777, "A"))
        r = tcp_reply(wire, 40002)
        if r is None or r[0] != "R" or r[1] != 777777:
            wrong.append(f"an ACK for no connection answered {r and r[:3]}, not R with seq 777777")
        if tcp_reply(wire, 40001, 0.5) is not None:
            wrong.append("a segment with a bad checksum answered")
        wire.send(tcp_frame(40000, 80, 1001, iss + 1, "A"))
        wire.send(tcp_frame(40000, 80, 99999, 0, "R"))  # not its sequence number: ignored
        req = b"GET /nothing HTTP/1.0\r\n\r\n"
        wire.send(tcp_frame(40000, 80, 1001, iss + 1, "PA", req))
        got, fin = b"", False
        for _ in range(20):
            r = tcp_reply(wire, 40000)
            if r is None:
                break
            got += r[3]
            if "F" in r[0]:
                fin = True
                wire.send(tcp_frame(40000, 80, 1001 + len(req), r[1] + len(r[3]) + 1, "FA"))
                break
            if r[3]:
                wire.send(tcp_frame(40000, 80, 1001 + len(req), r[1] + len(r[3]), "A"))
        if not got.startswith(b"HTTP/1.0 404"):
            wrong.append(f"the request answered {got[:40]!r}")
        if not fin:
            wrong.append("no FIN")
        return wrong

    out, wrong = shell_with_wire(t, [(r"\$ ", "httpd &\n")], talk, timeout=40)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)


@test(points=10, timeout=60)
def udp_malformed_dropped(t):
    """Frames for `udpecho`'s port that are bad in each way the stack
    checks -- cut at every byte from the UDP header on, an IP header
    checksum wrong, a UDP checksum wrong, a UDP length past the packet or
    below 8, an IP total length past the frame, a fragment (more
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

    out, wrong = shell_with_wire(t, [(r"\$ ", "udpecho 7 2\n")], talk, timeout=50)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)
    t.expect(out, rf"udpecho: echoed 2 datagrams; {len(bad)} bad, 0 dropped")


@test(points=10, timeout=60)
def tcp_window_and_order(t):
    """Raw TCP against `httpd`, this side advertising a window of 1000
    bytes: the request's second half sent before its first is dropped
    (the acknowledgement does not move past the first byte), then the
    halves in order are taken; the answer (/README.md) never goes past the
    window this side advertised, and comes whole and in order."""
    window = 1000

    def talk(wire):
        wrong = []
        for _ in range(40):
            wire.send(tcp_frame(41000, 80, 1000, 0, "S", window=window))
            r = tcp_reply(wire, 41000, 0.5)
            if r is not None:
                break
        else:
            return ["no answer to SYN"]
        iss = r[1]
        req = b"GET /README.md HTTP/1.0\r\n\r\n"
        half = 10
        wire.send(tcp_frame(41000, 80, 1001, iss + 1, "A", window=window))
        wire.send(tcp_frame(41000, 80, 1001 + half, iss + 1, "PA", req[half:], window=window))
        r = tcp_reply(wire, 41000)
        if r is None or r[2] != 1001:
            wrong.append(f"a segment out of order answered {r and r[:3]}, not an ACK of 1001")
        wire.send(tcp_frame(41000, 80, 1001, iss + 1, "PA", req[:half], window=window))
        wire.send(tcp_frame(41000, 80, 1001 + half, iss + 1, "PA", req[half:], window=window))
        got, acked, fin = b"", iss + 1, False
        end = time.monotonic() + 30
        while time.monotonic() < end and not fin:
            r = tcp_reply(wire, 41000)
            if r is None:
                break
            flags, seq, _, data = r
            if seq + len(data) > acked + window:
                wrong.append(f"{len(data)} bytes at {seq - iss}: past the window ({acked - iss} + {window})")
            if seq == acked and data:
                got += data
                acked += len(data)
            if "F" in flags and seq == acked:
                fin = True
                acked += 1
            wire.send(tcp_frame(41000, 80, 1001 + len(req), acked, "A", window=window))
        with open("README.md", "rb") as f:
            readme = f.read()
        head, _, body = got.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200") or body != readme:
            wrong.append(f"the answer: {head[:20]!r}, {len(body)} of {len(readme)} bytes right"
                         if body != readme else f"the answer: {head[:20]!r}")
        if not fin:
            wrong.append("no FIN")
        return wrong[:5]

    out, wrong = shell_with_wire(t, [(r"\$ ", "httpd &\n")], talk, timeout=50)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)


@test(points=5, timeout=40)
def tcp_connect_refused(t):
    """`nc 10.0.2.2 4444` against this side answering its SYN with a reset:
    nc says the connection was refused (ExOS's E_CONNREFUSED), and ends."""
    def talk(wire):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            f = wire.recv(0.5)
            if f is None or answer_host(wire, f) or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            sport, dport, seq = struct.unpack("!HHI", f[34:42])
            if dport == 4444 and f[47] & 2:
                wire.send(tcp_frame(4444, sport, 0, seq + 1, "RA", window=0))
                return None
        return ["no SYN came"]

    out, wrong = shell_with_wire(t, [(r"\$ ", "nc 10.0.2.2 4444\n")], talk, timeout=30)
    for w in wrong or []:
        t.check(False, w)
    t.expect(out, r"^nc: connection refused$")
