# The network as a system (not a lab): the kernel's half -- virtio-net,
# packet-filter bindings (DPF) and handlers (ASH), driven by user/t_net and
# user/t_ash on a wire (labs/netwire.py) -- and ExOS's TCP (ulib/tcp.c)
# with its programs httpd and nc. (ExOS's IPv4 and UDP are lab net's:
# labs/net/tests.py.)

import re
import socket
import struct
import threading
import time

from gradelib import *
from netwire import *


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
    environment destroyed with its filter installed leaves nothing; a
    net_wait deadline passes while another environment yields without end
    (under -icount, where a yield takes far less than a slice)."""
    out = t.qemu(bootargs="init=t_net", extra_args=["-icount", "shift=0"])
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


# ExOS's TCP (ulib/tcp.c) and its programs httpd and nc, over the lab's
# IPv4 (a 1 MiB file over HTTP is lab net's test): these boot the usual
# machine (init starts netd, then the shell) and type commands to the shell.

@test(points=20, timeout=150)
def tcp_retransmit(t):
    """The same with httpd's stack told to drop every 7th TCP segment it
    receives and every 7th it sends (`httpd 80 -d 7`): the file still
    arrives byte for byte, through retransmissions on timeout (a count
    above 0, printed by httpd) and in-order delivery."""
    out = http_session(t, "httpd 80 -d 7 &", timeout=130)
    m = re.search(r"httpd: GET /mib 200 1048576 bytes \(retransmissions (\d+)\)", out)
    t.check(m is not None and int(m.group(1)) > 0, "no retransmission counted")


# Both nc's lines, in either order: the client's answer and what the
# listening nc was sent come from two programs, the second may print first.
# The run's end: both nc lines and udpecho's, in any order (on several harts
# udpecho's may come last).
NC_DONE = re.compile(r"\A(?=[\s\S]*^hello from the host$)(?=[\s\S]*^to the listening nc$)"
                     r"(?=[\s\S]*udpecho: echoed 1 datagrams)", re.M)


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
                 stop=NC_DONE, extra_args=["-netdev", netdev], timeout=50)
    thread.join(5)
    server.close()
    t.check("error" not in got, got.get("error", ""))
    t.check(got.get("line") == b"hello from the guest\n", f"the server got {got.get('line')!r}")
    t.expect(out, r"^hello from the host$", r"^to the listening nc$",
             r"udpecho: echoed 1 datagrams")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap", r"^nc: ")


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
        r = tcp_syn(wire, 40000)
        if r is None:
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

    out, wrong = shell_with_wire_checked(t, [(r"\$ ", "httpd &\n")], talk, timeout=40)


def readme_answer(got, fin):
    """What is wrong with got, an HTTP answer to GET /README.md, and fin,
    whether the FIN after it came: [] if it is a 200 with the file byte for
    byte, then FIN."""
    with open("README.md", "rb") as f:
        readme = f.read()
    head, _, body = got.partition(b"\r\n\r\n")
    wrong = [] if fin else ["no FIN"]
    if body != readme:
        return [f"the answer: {head[:20]!r}, {len(body)} of {len(readme)} bytes right"] + wrong
    if not head.startswith(b"HTTP/1.0 200"):
        return [f"the answer: {head[:20]!r}"] + wrong
    return wrong


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
        r = tcp_syn(wire, 41000, window)
        if r is None:
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
        wrong += readme_answer(got, fin)
        return wrong[:5]

    out, wrong = shell_with_wire_checked(t, [(r"\$ ", "httpd &\n")], talk, timeout=50)


@test(points=10, timeout=60)
def tcp_fast_retransmit(t):
    """Raw TCP against `httpd`, this side losing a segment of the answer
    (/README.md) at three places: each time it keeps the segments that
    come past the hole and answers each with the same acknowledgement (bare
    duplicates), and the machine sends the lost segment again at the third
    duplicate, alone (fast retransmit), without waiting for its timer,
    whose go-back-N would send again what came past the hole; so once the
    hole is filled and the acknowledgement moves on, nothing received
    before comes again (allowed once in three, should the timer win on a
    busy host). The answer comes whole and in order."""
    window = 8000

    def talk(wire):
        wrong = []
        r = tcp_syn(wire, 42000, window)
        if r is None:
            return ["no answer to SYN"]
        iss = r[1]
        req = b"GET /README.md HTTP/1.0\r\n\r\n"
        wire.send(tcp_frame(42000, 80, 1001, iss + 1, "PA", req, window=window))
        got, acked, fin = b"", iss + 1, False
        held = {}  # segments past the hole: seq -> data
        hole, lost, holes, gone_back = None, None, 0, set()
        end = time.monotonic() + 40
        while time.monotonic() < end and not fin:
            r = tcp_reply(wire, 42000)
            if r is None:
                break
            flags, seq, _, data = r
            if data and seq + len(data) <= acked:
                if seq != lost:  # (the lost one itself may come twice)
                    gone_back.add(lost)
            elif data and hole is None and seq == acked and holes < 3 and \
                    len(got) > 20000 * (holes + 1):
                hole = lost = seq  # this one is lost
                holes += 1
            elif data and seq > acked:
                held[seq] = data
            elif data:  # it has the next byte: take it, then what it joins
                got += data[acked - seq:]
                acked, hole = seq + len(data), None
                while any(s <= acked for s in held):
                    s = min(held)
                    d = held.pop(s)
                    if s + len(d) > acked:
                        got += d[acked - s:]
                        acked = s + len(d)
            if "F" in flags and seq + len(data) == acked and hole is None:
                fin = True
                acked += 1
            wire.send(tcp_frame(42000, 80, 1001 + len(req), acked, "A", window=window))
        wrong += readme_answer(got, fin)
        if holes != 3:
            wrong.append(f"{holes} segments lost, not 3 (the answer was too short?)")
        if len(gone_back) > 1:
            wrong.append(f"after {len(gone_back)} of the 3 lost segments came again, segments "
                         f"received before came again too: the timer sent them (go-back-N), "
                         f"not the third duplicate acknowledgement the lost one alone")
        return wrong[:5]

    out, wrong = shell_with_wire_checked(t, [(r"\$ ", "httpd &\n")], talk, timeout=50)


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
