#!/usr/bin/env python3
"""bench.py: run exobench in QEMU and write its table as JSON (`make bench`).

    python3 labs/bench.py [--json FILE] [--timeout SECONDS] -- QEMU-COMMAND...
        Run the QEMU command (which boots init=exobench), show its output as
        it comes, then parse exobench's table and write it to FILE.
    python3 labs/bench.py --parse LOG [--json FILE]
        Parse the output saved in LOG instead (no QEMU).
    python3 labs/bench.py --scaling [--json FILE] -- QEMU-COMMAND...
        The command boots init=smpbench instead (several harts): parse its
        table and put it in FILE's "scaling" (the rest of FILE is kept).

The exit status is 0 when the table was complete, 1 when it was not (QEMU
failed, the run timed out, exobench did not finish or a row is malformed).

The JSON is {"mode": "full" or "quick", "runs": N, "exact": B, "method": S,
"references": S, "command": [...], "notes": [...], "rows": [...]}: exact is
false when exobench warned that rdinstret was not counting instructions
(QEMU without -icount shift=0: no target is judged then); method says how a
figure is measured and references what xv6's figures were measured on;
notes are the lines exobench printed under the table; rows has one record
per row of the table, in its order:
    name        the benchmark (README.md, "Benchmarks", says what each is)
    built       false for a subsystem that does not exist yet
    measured    true if the row has a figure
    iterations  operations measured per run (null if none)
    per_op      retired instructions per operation: the median of the runs
    min, max    the smallest and largest run; stable: min == max
    reference   xv6-riscv's figure (null if none); ratio = reference / per_op
    target      the target (null if none); target_met (null if no figure)
    note        what the operation is, or why there is no figure
    pages       the user pages of the program a fork row forks (else null)
    idle_per_op instructions' worth of time the hart waited idle for a device
                an operation, left out of per_op (null if it never waited)
    idle_waits  [fewest, most] times the hart went idle in a run (or null)

"scaling" (from --scaling) is {"harts": N, "method": S, "rows": [...]}, a
record per smpbench row: name, processes (N of the row), iterations,
per_op (every hart's retired instructions per fork-exit-wait; null for a
row that needs more harts than the machine has), min, max, stable,
lock_waits_per_op, shootdowns_per_op, and vs_one (per_op over the
one-process row's).

The network rows (udp-roundtrip-*, filter-demux-*) need a peer on the
machine's Ethernet: with a QEMU command, bench.py gives the machine a
-netdev socket on 127.0.0.1 (replacing the command's own -netdev) and
answers it (Peer). After the table it draws the round-trip rows as a chart
(chart()). Nothing is sent anywhere but 127.0.0.1.
Only the Python standard library is used, so the grader can import parse()
and Peer.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

HEADER = re.compile(r"^exobench: (?P<mode>\w+) run; .* median of (?P<runs>\d+) runs$",
                    re.MULTILINE)
NUMBER = r"\d[\d,]*(?:\.\d)?"
ROW = re.compile(
    r"^(?P<name>[a-z][a-z0-9-]*)\s+"
    r"(?P<iters>\d+|-)\s+"
    rf"(?P<per_op>{NUMBER}|-)\s+"
    rf"(?P<runs>stable|{NUMBER}\.\.{NUMBER}|-)\s+"
    rf"(?P<ref>{NUMBER}|-)\s+"
    rf"(?P<ratio>{NUMBER}x|-)\s+"
    rf"(?P<target><= {NUMBER}|-)\s+"
    r"(?P<mark>met|MISSED|-)"
    r"(?:\s+(?P<note>.*?))?\s*$")
TABLE_HEAD = re.compile(r"^benchmark\s+iters\s+instr/op", re.MULTILINE)
DONE = re.compile(r"^exobench: done$", re.MULTILINE)
FOOTNOTE = re.compile(rf"^exobench: (?P<name>[a-z][a-z0-9-]*): not counted above, .* "
                      rf"(?P<idle>{NUMBER}) instructions' worth .* in (?P<lo>\d+)\.\.(?P<hi>\d+) "
                      r"waits a run", re.MULTILINE)
PAGES = re.compile(r"; (\d+) pages$")
METHOD = ("retired instructions (rdinstret) per operation under QEMU -icount shift=0, where the "
          "counter advances by exactly one per instruction of the hart (user, ExOS, kernel, "
          "OpenSBI); each row measured in a fresh exobench process: setup, a warm-up run, then "
          "the runs, each from the start of a fresh time slice; a run's loop less an empty loop "
          "of the same shape, less the time the hart waited idle (host time under -icount); "
          "per_op is the median of the runs; the network rows (udp-roundtrip-*, filter-demux-*) "
          "instead sum, over a run's frames, the kernel's stamps from each frame's arrival "
          "(sysinfo net_rx_instret) to its echo's transmission (net_tx_instret) or its filter "
          "found (net_match_instret), the processor shared as usual")
REFERENCES = ("xv6-riscv under the same QEMU, one hart, -icount shift=0, measured with rdinstret "
              "around the same operation in a user program: getpid (null-syscall); a one-byte "
              "pipe round trip between two processes; fork+exit+wait of its benchmark program, "
              "and of it with 1 MiB of heap touched; fork+exec(echo)+wait (exec reads the "
              "program from xv6's buffer cache); a page fault that allocates a zeroed page")
SCALING_HEAD = re.compile(r"^smpbench: (?P<harts>\d+) harts?; ", re.MULTILINE)
SCALING_ROW = re.compile(
    r"^(?P<name>fork-exit-wait-(?P<procs>\d+))\s+(?:\(needs \d+ harts\)|"
    r"(?P<ops>\d+)\s+(?P<per_op>\d+)\s+(?P<lo>\d+)\.\.(?P<hi>\d+)\s+"
    r"(?P<locks>\d+\.\d)\s+(?P<fences>\d+\.\d))\s*$", re.MULTILINE)
SCALING_DONE = re.compile(r"^smpbench: done$", re.MULTILINE)
SCALING_METHOD = ("retired instructions of every hart (rdinstret) per fork-exit-wait under QEMU "
                  "-icount shift=0,sleep=off, where one counter counts every hart's "
                  "instructions and QEMU runs the harts in turn: N processes each make K "
                  "fork-exit-waits, less the same run with K = 0; the median of 3 runs; "
                  "lock_waits_per_op: times a hart found the kernel lock held, shootdowns_per_op: "
                  "TLB shootdowns, per operation")
INEXACT = re.compile(r"^exobench: WARNING: rdinstret is not counting instructions", re.MULTILINE)


def _number(text):
    """The value of a table number ("1,130", "89.4"), or None for "-"."""
    if text in (None, "-"):
        return None
    value = float(text.rstrip("x").replace(",", ""))
    return int(value) if value.is_integer() else value


def parse(text):
    """Parse exobench's output (the whole console log is fine). Returns
    {"mode", "runs", "exact", "rows", "complete"}; complete is true when the table
    was there, every line of it parsed, and exobench said it was done.
    Raises ValueError if there is no table at all."""
    text = text.replace("\r", "")
    head = TABLE_HEAD.search(text)
    if head is None:
        raise ValueError("no exobench table in the output")
    header = HEADER.search(text)
    rows, complete = [], True
    for line in text[head.end():].splitlines()[1:]:
        if line.startswith("exobench: ") or not line.strip():
            break
        m = ROW.match(line)
        if m is None:
            complete = False
            continue
        per_op = _number(m["per_op"])
        if m["runs"] == "stable":
            lo = hi = per_op
        elif m["runs"] == "-":
            lo = hi = None
        else:
            lo, hi = (_number(x) for x in m["runs"].split(".."))
        target = _number(m["target"][3:]) if m["target"] != "-" else None
        note = m["note"] or ""
        rows.append({
            "name": m["name"],
            "built": note != "(not built yet)",
            "measured": per_op is not None,
            "iterations": _number(m["iters"]),
            "per_op": per_op,
            "min": lo,
            "max": hi,
            "stable": None if per_op is None else lo == hi,
            "reference": _number(m["ref"]),
            "ratio": _number(m["ratio"]),
            "target": target,
            "target_met": None if m["mark"] == "-" else m["mark"] == "met",
            "note": note,
            "pages": int(PAGES.search(note)[1]) if PAGES.search(note) else None,
            "idle_per_op": None,
            "idle_waits": None,
        })
    by_name = {r["name"]: r for r in rows}
    notes = []
    for line in text[head.end():].splitlines():
        m = FOOTNOTE.match(line)
        if m is not None:
            notes.append(line)
            if m["name"] in by_name:
                by_name[m["name"]]["idle_per_op"] = _number(m["idle"])
                by_name[m["name"]]["idle_waits"] = [int(m["lo"]), int(m["hi"])]
    return {"mode": header["mode"] if header else None,
            "runs": int(header["runs"]) if header else None,
            "exact": INEXACT.search(text) is None,
            "method": METHOD,
            "references": REFERENCES,
            "notes": notes,
            "rows": rows,
            "complete": complete and bool(rows) and DONE.search(text) is not None}


def parse_scaling(text):
    """Parse smpbench's output (the whole console log is fine). Returns
    {"harts", "method", "rows", "complete"} (see the top of this file);
    complete when smpbench said it was done and every row was there.
    Raises ValueError if there is no smpbench header."""
    text = text.replace("\r", "")
    head = SCALING_HEAD.search(text)
    if head is None:
        raise ValueError("no smpbench table in the output")
    rows = []
    for m in SCALING_ROW.finditer(text):
        measured = m["per_op"] is not None
        rows.append({
            "name": m["name"],
            "processes": int(m["procs"]),
            "iterations": int(m["ops"]) if measured else None,
            "per_op": int(m["per_op"]) if measured else None,
            "min": int(m["lo"]) if measured else None,
            "max": int(m["hi"]) if measured else None,
            "stable": m["lo"] == m["hi"] if measured else None,
            "lock_waits_per_op": float(m["locks"]) if measured else None,
            "shootdowns_per_op": float(m["fences"]) if measured else None,
            "vs_one": None,
        })
    one = rows[0]["per_op"] if rows and rows[0]["processes"] == 1 else None
    for r in rows:
        if one and r["per_op"] is not None:
            r["vs_one"] = round(r["per_op"] / one, 3)
    return {"harts": int(head["harts"]), "method": SCALING_METHOD, "rows": rows,
            "complete": len(rows) == 3 and SCALING_DONE.search(text) is not None}


TX_DELAY = 20000  # ns of the machine's time from a send to its frame leaving (Peer)


class Peer:
    """The host's end of the machine's Ethernet for the network rows, over
    QEMU's -netdev socket (UDP on 127.0.0.1): every UDP datagram the
    machine sends saying "go" comes back at once, addresses and ports
    swapped, saying "ok" (the same length, so the IP checksum holds); any
    other frame is ignored. So the machine asks for each frame it measures
    and the host never waits on the machine's time."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.qemu_port = s.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def qemu_args(self):
        """The -netdev that puts the machine on this peer's wire, and the
        device in its timer mode: a frame the machine sends leaves TX_DELAY
        later (unless one is held already: then both leave at once), so
        the sender of a "go" is asleep waiting for the answer before it
        can come (README.md, "Benchmarks", the network rows)."""
        return ["-netdev", f"socket,id=net0,udp=127.0.0.1:{self.sock.getsockname()[1]},"
                           f"localaddr=127.0.0.1:{self.qemu_port}",
                "-global", "virtio-net-device.tx=timer",
                "-global", f"virtio-net-device.x-txtimer={TX_DELAY}"]

    def command(self, command):
        """command with its -netdev replaced by qemu_args() (the device,
        -device virtio-net-device,netdev=net0, stays; added if missing)."""
        command = list(command)
        if "-netdev" in command:
            at = command.index("-netdev")
            return command[:at] + self.qemu_args() + command[at + 2:]
        return command + self.qemu_args() + ["-device", "virtio-net-device,netdev=net0"]

    @staticmethod
    def answer(frame):
        """The answer to frame, or None if it is not a "go" datagram."""
        if (len(frame) < 44 or frame[12:14] != b"\x08\x00" or frame[14] != 0x45
                or frame[23] != 17 or frame[16:18] != b"\x00\x1e" or frame[42:44] != b"go"):
            return None
        f = bytearray(frame[:44])
        for at, n in ((0, 6), (26, 4), (34, 2)):  # Ethernet, IP addresses; UDP ports
            f[at:at + n], f[at + n:at + 2 * n] = frame[at + n:at + 2 * n], frame[at:at + n]
        f[42:44] = b"ok"
        return bytes(f)

    def _serve(self):
        while True:
            try:
                frame = self.sock.recv(65536)
            except OSError:  # closed
                return
            reply = self.answer(frame)
            if reply is not None:
                self.sock.sendto(reply, ("127.0.0.1", self.qemu_port))

    def close(self):
        self.sock.close()


# The round-trip rows' names: who answers (ash or user), busy processes.
ROUNDTRIP = re.compile(r"^udp-roundtrip-(?P<kind>ash|user)-(?P<procs>\d+)$")


def chart(rows, width=50):
    """The round-trip rows as text: a bar for each count of competing
    processes, the handler's above the owner's, on one linear scale (the
    widest bar is the largest figure). "" if no such row has a figure."""
    figures = {}
    for r in rows:
        m = ROUNDTRIP.match(r["name"])
        if m is not None and r["measured"]:
            figures[int(m["procs"]), m["kind"]] = r["per_op"]
    if not figures:
        return ""
    top = max(figures.values())
    lines = ["udp round trip, instructions from a datagram's arrival to its echo's "
             "transmission (ash: a handler in the kernel echoes; user: the owner process):"]
    for procs in sorted({p for p, _ in figures}):
        for kind in ("ash", "user"):
            if (procs, kind) in figures:
                v = figures[procs, kind]
                bar = "#" * max(1, round(v / top * width))
                lines.append(f"{procs:>3} busy {kind:<4} |{bar:<{width}} {v:>12,.0f}")
    return "\n".join(lines)


def run(command, timeout):
    """Run command with its output shown as it comes; return (output text,
    exit status, timed_out). QEMU gets no terminal on stdin."""
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    chunks, deadline, timed_out = [], time.monotonic() + timeout, False
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        try:
            data = os.read(proc.stdout.fileno(), 65536)
        except BlockingIOError:
            data = None
        if data:
            chunks.append(data)
            # echo, which the process rows run, prints empty lines: not shown
            shown = re.sub(r"\n\n+", "\n", data.decode("utf-8", "replace").replace("\r", ""))
            sys.stdout.write(shown)
            sys.stdout.flush()
        elif data == b"":
            break
        elif time.monotonic() > deadline:
            timed_out = True
            proc.kill()
            break
        else:
            time.sleep(0.02)
    status = proc.wait()
    return b"".join(chunks).decode("utf-8", "replace"), status, timed_out


def exit_status(ok, status, timed_out):
    """The exit status for a run that was ok or not; if not, say why."""
    if not ok:
        why = "timed out" if timed_out else f"QEMU exited with status {status}" if status \
            else "the table is incomplete"
        print(f"bench: {why}", file=sys.stderr)
    return 0 if ok else 1


def scaling_main(args, text, status, timed_out):
    """main() for --scaling: smpbench's output is text; put its table in
    the JSON file's "scaling" and print a summary. Returns the exit status."""
    try:
        table = parse_scaling(text)
    except ValueError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    ok = table.pop("complete") and status == 0 and not timed_out
    if args.json:
        whole = {}
        if os.path.exists(args.json):
            with open(args.json, encoding="utf-8") as f:
                whole = json.load(f)
        whole["scaling"] = table
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(whole, f, indent=2)
            f.write("\n")
    measured = [r for r in table["rows"] if r["per_op"] is not None]
    print(f"bench: scaling on {table['harts']} harts, instructions of every hart a fork-exit-wait: "
          + ", ".join(f"{r['processes']} at once {r['per_op']:,} (x{r['vs_one']:.2f})"
                      for r in measured)
          + (f"; wrote {args.json}" if args.json else ""))
    return exit_status(ok, status, timed_out)


def main(argv=None):
    """Command-line entry; returns the exit status."""
    p = argparse.ArgumentParser(description="Run exobench and write its table as JSON.")
    p.add_argument("--json", metavar="FILE", help="where to write the JSON")
    p.add_argument("--timeout", type=float, default=600, help="seconds QEMU may run (600)")
    p.add_argument("--parse", metavar="LOG", help="parse a saved output instead of running")
    p.add_argument("--scaling", action="store_true",
                   help="the command boots smpbench: add its table to the JSON as \"scaling\"")
    p.add_argument("command", nargs="*", help="the QEMU command, after --")
    args = p.parse_args(argv)
    if args.parse:
        with open(args.parse, encoding="utf-8", errors="replace") as f:
            text, status, timed_out = f.read(), 0, False
    elif args.command:
        peer = None if args.scaling else Peer()  # (smpbench has no network rows)
        if peer is not None:
            args.command = peer.command(args.command)
        text, status, timed_out = run(args.command, args.timeout)
        if peer is not None:
            peer.close()
    else:
        p.error("give a QEMU command after --, or --parse LOG")
    if args.scaling:
        return scaling_main(args, text, status, timed_out)
    try:
        table = parse(text)
    except ValueError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    table["command"] = args.command or None
    ok = table.pop("complete") and status == 0 and not timed_out
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(table, f, indent=2)
            f.write("\n")
    drawn = chart(table["rows"])
    if drawn:
        print(drawn)
    measured = sum(r["measured"] for r in table["rows"])
    missed = [r["name"] for r in table["rows"] if r["target_met"] is False]
    print(f"bench: {measured} of {len(table['rows'])} rows measured"
          + (f", targets missed: {' '.join(missed)}" if missed
             else "" if measured == 0 else ", no target missed" if table["exact"]
             else ", no target judged: the counts are not exact")
          + (f"; wrote {args.json}" if args.json else ""))
    return exit_status(ok, status, timed_out)


if __name__ == "__main__":
    sys.exit(main())
