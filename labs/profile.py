#!/usr/bin/env python3
"""profile.py: where one exobench row spends its instructions (`make profile`).

    python3 labs/profile.py [--top N] [--prog P,...] [--runs] ROW -- QEMU-COMMAND...

Runs the QEMU command (which must boot `init=exobench bench=quick ROW`
under -icount shift=0) with QEMU logging every instruction it executes
(`-singlestep -d exec,nochain`, read through a named pipe, never stored),
counts the instructions executed between exobench's calls of
bench_profile_begin() and bench_profile_end() (the timed runs of the row,
not its setup), and prints them by function: the kernel's from the kernel's
symbols, OpenSBI's as one entry, and user code's from the user programs'
(exobench, then each --prog: programs share the user address range, so a
user function is named in each program where its address is a function;
the right one is the one that ran). The counts are totals over the row's
timed runs; divide by the runs times the iterations for a figure per
operation (printed under the table). Without -icount shift=0 the counts
are still exact, only the timer interrupts land elsewhere.

The command may name other rows before ROW (exobench measures them in the
order named): only ROW's runs, the last ones, are counted, so one can see
what running after another row changes.

With --runs it prints each timed run's total instead, and, if they differ,
the functions whose counts differ between the smallest run and the largest:
why a row's runs do not agree.

Only the Python standard library is used.
"""

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile

TRACE = re.compile(rb"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
KERNEL_BASE = 0x80200000  # the kernel's load address; OpenSBI is below it
FIRMWARE_BASE = 0x80000000


class Symbols:
    """The function symbols of an ELF file, by address (from `nm`)."""

    def __init__(self, elf, nm):
        out = subprocess.run([nm, "-n", "--defined-only", elf], capture_output=True, text=True,
                             check=True).stdout
        self.addrs, self.names = [], []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                self.addrs.append(int(parts[0], 16))
                self.names.append(parts[2])

    def name(self, pc):
        """The function containing pc, or None (before the first symbol)."""
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.names[i] if i >= 0 else None

    def address(self, name):
        """The address of the function called name; an error if there is none."""
        for a, n in zip(self.addrs, self.names):
            if n == name:
                return a
        sys.exit(f"profile: no function {name} in the program")


def count(cmd, begin, end):
    """Run cmd with its instruction log in a named pipe; return a list with,
    for each stretch from a pc == begin to the next pc == end, the count of
    each pc executed in it; and the program's output."""
    tmp = tempfile.mkdtemp(prefix="rvexo-profile-")
    fifo = os.path.join(tmp, "trace")
    os.mkfifo(fifo)
    runs = []
    try:
        qemu = subprocess.Popen(cmd + ["-singlestep", "-d", "exec,nochain", "-D", fifo],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        on = False
        with open(fifo, "rb", buffering=1 << 20) as trace:
            for line in trace:
                m = TRACE.match(line)
                if m is None:
                    continue
                pc = int(m.group(1), 16)
                if pc == begin:
                    on = True
                    runs.append(collections.Counter())
                elif pc == end:
                    on = False
                if on:
                    runs[-1][pc] += 1
        output = qemu.communicate()[0].decode(errors="replace")
    finally:
        os.unlink(fifo)
        os.rmdir(tmp)
    return runs, output


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=30, help="functions to show (default 30)")
    ap.add_argument("--prog", default="", help="more user programs to name functions in")
    ap.add_argument("--build", default="build", help="the build directory")
    ap.add_argument("--nm", default="riscv64-linux-gnu-nm")
    ap.add_argument("--runs", action="store_true", help="each run's total, and why they differ")
    ap.add_argument("row")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.qemu[1:] if args.qemu[:1] == ["--"] else args.qemu
    if not cmd:
        ap.error("no QEMU command after --")
    kernel = Symbols(os.path.join(args.build, "kernel", "kernel"), args.nm)
    progs = ["exobench"] + [p for p in args.prog.split(",") if p]
    users = [(p, Symbols(os.path.join(args.build, "user", p), args.nm)) for p in progs]
    bench = users[0][1]
    runs, output = count(cmd, bench.address("bench_profile_begin"),
                         bench.address("bench_profile_end"))
    rows = [line for line in output.splitlines() if line.startswith(args.row + " ")]
    header = re.search(r"median of (\d+) runs", output)
    if not rows or "(failed" in rows[0] or "(not selected)" in rows[0] or header is None:
        sys.stdout.write(output)
        sys.exit(f"profile: exobench did not measure {args.row}")
    runs = runs[-int(header[1]):]  # ROW's, the last row measured

    def by_function(counts):
        """counts by pc, summed by function name."""
        named = collections.Counter()
        for pc, n in counts.items():
            if pc >= KERNEL_BASE:
                name = "kernel:" + (kernel.name(pc) or "?")
            elif pc >= FIRMWARE_BASE:
                name = "opensbi"
            else:
                names = {f"{p}:{s.name(pc)}" for p, s in users if s.name(pc)}
                name = " | ".join(sorted(names)) or f"user:{pc:#x}"
            named[name] += n
        return named

    print(rows[0])
    if args.runs:
        totals = [sum(r.values()) for r in runs]
        print("each run's instructions: " + ", ".join(f"{n:,}" for n in totals))
        lo, hi = totals.index(min(totals)), totals.index(max(totals))
        if totals[lo] != totals[hi]:
            a, b = by_function(runs[lo]), by_function(runs[hi])
            print(f"{'smallest':>12} {'largest':>12}  function (where runs {lo} and {hi} differ)")
            for name in sorted(set(a) | set(b), key=lambda n: -abs(b[n] - a[n])):
                if a[name] != b[name]:
                    print(f"{a[name]:>12,} {b[name]:>12,}  {name}")
        return
    total_by_function = by_function(sum(runs, collections.Counter()))
    total = sum(total_by_function.values())
    print(f"{'instructions':>12} {'share':>6}  function (timed runs of {args.row})")
    for name, n in total_by_function.most_common(args.top):
        print(f"{n:>12,} {100 * n / total:5.1f}%  {name}")
    print(f"{total:>12,} 100.0%  in all (every timed run; divide by the runs and the "
          f"iterations for one operation)")


if __name__ == "__main__":
    main()
