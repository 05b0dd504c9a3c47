# Lab replay: the grader records a failed test's machine, and the recording
# replays it exactly, under GDB too, where `back` and `last-write` go back
# in time (labs/gradelib.py's _Recorder, labs/replay.py, labs/rr.py).
#
# Each test runs an inner grader (python3 grade-lab --labs-dir fixtures) on
# the fixture lab fixtures/broken, whose test `backtrace` boots the real
# kernel with ktest=junkframe and fails on purpose (the panic's backtrace
# stops short: the kernel overwrote a saved frame pointer first), and whose
# test `banner` passes. The inner grader's logs and recordings go to a
# temporary directory, never to build/grade.

import os
import re
import sys
import tempfile

import replay as replay_tool  # labs/replay.py, not this directory
from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")


def record(t, tmp, *words, env=None):
    """Run the inner grader on the fixture lab with words (filters,
    options), its logs in tmp/logs, on machines of one hart (QEMU records
    no more) whatever CPUS says; return its output."""
    argv = [sys.executable, os.path.join(ROOT, "grade-lab"), "--no-build", "--labs-dir",
            FIXTURES, "--log-dir", os.path.join(tmp, "logs"), "broken", *words]
    return t.run(argv, timeout=60, env={"CPUS": "1", **(env or {"RECORD": "1"})})


def replay(t, tmp, *args, timeout=60):
    """Run labs/replay.py on the recording of broken/backtrace in tmp with
    args; return its output."""
    argv = [sys.executable, os.path.join(ROOT, "labs", "replay.py"), "--log-dir",
            os.path.join(tmp, "logs"), *args, "broken/backtrace"]
    return t.run(argv, timeout=timeout)


def under_gdb(t, tmp, commands):
    """Replay broken/backtrace under GDB in batch mode with commands (a
    list of lines); return GDB's output."""
    script = os.path.join(tmp, "commands.gdb")
    with open(script, "w") as f:
        f.write("\n".join(commands) + "\n")
    return replay(t, tmp, "--batch", script)


def counts(out):
    """The instruction counts that `icount` printed in out, in order."""
    return [int(n) for n in re.findall(r"^instruction count (\d+)$", out, re.M)]


def recorded(t, tmp):
    """Record broken/backtrace's failing run; fail unless it failed and
    its recording is there."""
    out = record(t, tmp, "backtrace")
    t.expect(out, r"^  broken/backtrace +FAIL", r"^    replay it: make replay T=broken/backtrace$")
    rr = os.path.join(tmp, "logs", "broken-backtrace.rr")
    for name in ("run1.json", "run1.rr", "run1.out", "run1.img", "kernel"):
        if not os.path.exists(os.path.join(rr, name)):
            t.fail(f"the recording has no {name}:\n{out}")
    return rr


@test(points=1, timeout=90)
def failed_test_recorded_passed_test_not(t):
    """A failed test's machine is recorded and the line under it says how to
    replay it; a passed test leaves no recording; with RECORD=0 nothing is
    recorded and the line says so."""
    with tempfile.TemporaryDirectory() as tmp:
        recorded(t, tmp)
        out = record(t, tmp, "banner")
        t.expect(out, r"^  broken/banner +PASS")
        t.check(not os.path.exists(os.path.join(tmp, "logs", "broken-banner.rr")),
                "a passed test's recording was kept")
        out = record(t, tmp, "backtrace", env={"RECORD": "0"})
        t.expect(out, r"^    no replay: recording was off \(--no-record\)$")
        t.check(not os.path.exists(os.path.join(tmp, "logs", "broken-backtrace.rr")),
                "with RECORD=0 a recording (or an older one) is there")


@test(points=1, timeout=90)
def replay_prints_the_same_bytes(t):
    """The replay of a failed test's boot prints what the boot printed, byte
    for byte, and the check says so; a recording that does not match what
    the replay prints is reported where they first differ."""
    with tempfile.TemporaryDirectory() as tmp:
        rr = recorded(t, tmp)
        with open(os.path.join(rr, "run1.out"), "rb") as f:
            console = f.read()
        t.check(b"panic at kernel/ktest.c" in console, "the recorded console has no panic")
        out = replay(t, tmp)
        t.check(out.returncode == 0, f"make replay ended with status {out.returncode}")
        t.expect(out, rf"^\*\*\* replay: the console printed the same {len(console)} bytes "
                      r"as the recorded run$", r"^panic at kernel/ktest\.c:\d+: ")
        at = console.index(b"panic at") + 6
        with open(os.path.join(rr, "run1.out"), "wb") as f:
            f.write(console[:at] + b"X" + console[at + 1:])
        out = replay(t, tmp)
        t.check(out.returncode == 1, f"a differing replay ended with status {out.returncode}")
        t.expect(out, rf"^\*\*\* replay: the console printed differs from the recorded run "
                      rf"at byte {at} \(line \d+\)")


@test(points=1, timeout=90)
def typed_session_replays(t):
    """A failed test that typed at the shell is recorded too: every line it
    typed reached the recorded machine whole (lines longer than the UART's
    FIFO, which record mode would cut short if typed at once), and the
    replay prints the same bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = record(t, tmp, "typed")
        t.expect(out, r"^  broken/typed +FAIL", r"^    replay it: make replay T=broken/typed$",
                 r"^    missing: /\^a line the shell never prints\$/$")
        t.forbid(out, r"time limit")
        path = os.path.join(tmp, "logs", "broken-typed.rr", "run1.out")
        if not os.path.exists(path):
            t.fail(f"no recording of broken/typed:\n{out}")
        with open(path, "rb") as f:
            console = f.read()
        text = console.replace(b"\r", b"")
        t.check(b"\nthe quick brown fox jumps over the lazy dog\ntwice over\n" in text,
                "the long line did not reach the recorded machine whole")
        t.check(b"\nend-of-session\n" in text, "the session's last line was never run")
        argv = [sys.executable, os.path.join(ROOT, "labs", "replay.py"), "--log-dir",
                os.path.join(tmp, "logs"), "broken/typed"]
        out = t.run(argv, timeout=60)
        t.check(out.returncode == 0, f"make replay ended with status {out.returncode}")
        t.expect(out, rf"^\*\*\* replay: the console printed the same "
                      rf"{len(replay_tool.QEMU_STOPPED.sub(b'', console))} bytes as the "
                      r"recorded run$")


@test(points=1, timeout=90)
def gdb_stops_and_goes_back_one(t):
    """Under GDB the replay stops at a kernel breakpoint; `back`, then GDB's
    own reverse-stepi, each move the pc and the instruction count back by
    exactly one instruction; `seek` returns to the breakpoint's count and
    pc."""
    with tempfile.TemporaryDirectory() as tmp:
        recorded(t, tmp)
        out = under_gdb(t, tmp, ["break panic_at", "continue", "icount", "set $here = $icount",
                                 "p/x $pc", "back", "icount", "p/x $pc", "reverse-stepi", "icount",
                                 "p/x $pc", "seek $here", "icount", "p/x $pc"])
        t.expect(out, r"^Breakpoint 1, panic_at ")
        n = counts(out)
        pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)
        t.check(len(n) >= 3 and n[1] == n[0] - 1 and n[2] == n[0] - 2,
                f"the counts were {n}, not N, N-1, N-2:\n{out}")
        t.check(len(pcs) >= 3 and len(set(pcs[:3])) == 3,
                f"the pc did not move back at each step: {pcs}")
        t.check(n[3:4] == n[:1] and pcs[3:4] == pcs[:1],
                f"seek did not come back to count {n[:1]} at pc {pcs[:1]}: {n[3:]}, {pcs[3:]}")


@test(points=1, timeout=90)
def gdb_last_write_finds_the_store(t):
    """At the panic, `last-write` on the saved frame pointer the kernel
    overwrote goes back to the store that overwrote it: an earlier count,
    a store instruction (sd), and a value before that differs from the
    value after, the one the panic found."""
    with tempfile.TemporaryDirectory() as tmp:
        recorded(t, tmp)
        out = under_gdb(t, tmp, ["break panic_at", "continue", "icount", "frame 1",
                                 "p/x *(long *)($fp - 16)", "last-write $fp - 16", "icount"])
        n = counts(out)
        m = re.search(r"^0x[0-9a-f]+ was last written by the instruction at count (\d+): "
                      r"(0x[0-9a-f]+) -> (0x[0-9a-f]+) ", out, re.M)
        found = re.search(r"^\$1 = (0x[0-9a-f]+)$", out, re.M)
        if not (m and found and n):
            t.fail(f"last-write said no count, value or store:\n{out}")
        t.check(int(m.group(1)) < n[0] and n[-1] == int(m.group(1)),
                f"last-write went to count {m.group(1)}, now {n[-1]}, from {n[0]}")
        t.check(m.group(2) != m.group(3), f"the value did not change: {m.group(2)}")
        t.check(m.group(3) == found.group(1),
                f"the store wrote {m.group(3)}, the panic found {found.group(1)}")
        t.expect(out, r"^=> 0x[0-9a-f]+ <ktest_badframe\+\d+>:\s+sd\s")
