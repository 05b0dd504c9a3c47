"""The host's end of the machine's Ethernet, for the network's tests
(labs/network: the kernel's bindings and the whole stack; labs/net: the
lab's IPv4 and UDP). A test boots the machine with its Ethernet on QEMU's
-netdev socket over UDP on 127.0.0.1 (it replaces the Makefile's user-mode
network): a Wire is the other end, sending raw frames and reading what the
machine sends. Nothing here sends a packet anywhere but 127.0.0.1."""

import random
import re
import socket
import struct
import threading
import time

GUEST_MAC = bytes.fromhex("525400123456")  # QEMU's default for the first NIC
HOST_MAC = bytes.fromhex("020000000001")
HOST_IP, GUEST_IP = bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15])
ECHO_PORT = 7  # user/t_net.c
SINK_PORT = 9
HOST_PORT = 5000


def checksum(data):
    """The Internet checksum of data (an even number of bytes): 0 for
    data that carries its own right checksum."""
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


def reply_problems(frame, payload, sport=ECHO_PORT, udp_sum=False):
    """What is wrong with frame as the answer of the machine's port sport
    to udp_frame(payload): addresses and ports swapped, the IP header's
    checksum right and its time to live above 0, the payload the same;
    and if udp_sum, a UDP checksum (over the pseudo-header too) that is
    there and right."""
    wrong = []
    if frame[:6] != HOST_MAC or frame[6:12] != GUEST_MAC:
        wrong.append("Ethernet addresses not swapped")
    if len(frame) < 42:
        return wrong + [f"only {len(frame)} bytes"]
    if checksum(frame[14:34]) != 0:
        wrong.append("bad IP header checksum")
    if frame[22] == 0:
        wrong.append("IP time to live 0 (a router drops it)")
    if frame[26:30] != GUEST_IP or frame[30:34] != HOST_IP:
        wrong.append("IP addresses not swapped")
    if struct.unpack("!HH", frame[34:38]) != (sport, HOST_PORT):
        wrong.append("UDP ports not swapped")
    if udp_payload(frame) != payload:
        wrong.append("payload differs")
    elif udp_sum:
        n = struct.unpack("!H", frame[38:40])[0]
        seg = frame[34:34 + n]
        pseudo = frame[26:34] + struct.pack("!BBH", 0, 17, n)
        if frame[40:42] == b"\0\0":
            wrong.append("no UDP checksum (0)")
        elif checksum(pseudo + seg + b"\0" * (n % 2)) != 0:
            wrong.append("a wrong UDP checksum (over the pseudo-header, the header and the data)")
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
        end = next_send = time.monotonic()
        end += seconds
        while time.monotonic() < end:
            if resend is not None and time.monotonic() >= next_send:
                self.send(resend)  # every half second, however many frames come meanwhile
                next_send = time.monotonic() + 0.5
            frame = self.recv(0.5)
            if frame is not None and udp_payload(frame) == payload:
                return True
        return False


def free_udp_port():
    """A UDP port of 127.0.0.1 that nothing uses just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def shell_with_wire_checked(t, commands, talk, timeout):
    """shell_with_wire, and each thing talk found wrong (a list of
    sentences) a failed check; none returned means talk did not finish.
    Returns the same pair."""
    out, wrong = shell_with_wire(t, commands, talk, timeout)
    for w in wrong if wrong is not None else ["the host side did not finish"]:
        t.check(False, w)
    return out, wrong


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


def tcp_frame(sport, dport, seq, ack, flags, payload=b"", window=8192):
    """An Ethernet frame carrying a TCP segment from the host to the
    machine, checksummed. flags: a string of F S R P A."""
    bits = sum(b for b, c in zip((1, 2, 4, 8, 16), "FSRPA") if c in flags)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits, window, 0, 0)
    pseudo = HOST_IP + GUEST_IP + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    data = pseudo + h + payload
    s = checksum(data + b"\0" * (len(data) % 2))
    return ip_frame(6, h[:16] + struct.pack("!H", s) + h[18:] + payload)


def tcp_syn(wire, sport, window=8192):
    """Send SYNs from the host's port sport (sequence number 1000) to the
    machine's port 80 until it answers (its server may not listen yet),
    for about 20 seconds. Returns the answer as tcp_reply gives it, or
    None."""
    for _ in range(40):
        wire.send(tcp_frame(sport, 80, 1000, 0, "S", window=window))
        r = tcp_reply(wire, sport, 0.5)
        if r is not None:
            return r
    return None


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
