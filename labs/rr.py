"""Going back in time in a replay: GDB commands that re-run the recording.

`make replay-gdb T=lab/test` (labs/replay.py) starts GDB with the
environment variable RVEXO_REPLAY set to a JSON object: the replay's
command line (argv), the directory it runs in (dir), the port (port) and
the file its console goes to (console). This file, sourced by .gdbinit
before `target remote`, then starts that QEMU halted, waiting for GDB on
the port, and stops it when GDB exits. The replayed machine runs its
recorded boot again instruction for instruction, so any instruction count
can be reached again by running the replay from its start up to it:

    icount            the instruction count the machine has reached, also
                      kept in $icount (`set $here = $icount`; `seek $here`
                      comes back to it)
    seek N            go to instruction count N (before or after this one)
    back [N]          go back N instructions (default 1); in a replay,
                      GDB's reverse-stepi (rsi) does the same
    reverse-continue  (rc) back to the last stop of a breakpoint or a
                      watchpoint before now (`watch -l x`, then rc: the
                      last write of x)
    last-write[/SIZE] ADDR
                      go back to the last instruction before this one that
                      wrote the SIZE bytes (default 8) at ADDR: the one that
                      put there what is there now

Going back starts a fresh QEMU on the recording and runs it to the count
(monitor replay_break N, continue): at tens of millions of instructions a
second, a fraction of a second for a test's boot. QEMU's own way back
does not work on QEMU 7.2 for RISC-V: GDB's reverse-stepi and
reverse-continue get no answer, and after loading a snapshot (replay_seek)
the machine no longer single-steps. In a replay this file's commands take
the place of GDB's reverse-stepi and reverse-continue. Outside a replay
back, seek and last-write say so.
"""

import atexit
import json
import os
import re
import subprocess
import time

import gdb

_REPLAY = json.loads(os.environ.get("RVEXO_REPLAY", "null"))
_qemu = None     # the running replay's QEMU (a Popen), or None


def _start():
    """Start the replay's QEMU, halted, waiting for GDB on its port; its
    console goes to the console file (anew)."""
    global _qemu
    with open(_REPLAY["console"], "wb") as console:
        _qemu = subprocess.Popen(_REPLAY["argv"] + ["-S", "-gdb", f"tcp:127.0.0.1:{_REPLAY['port']}"],
                                 cwd=_REPLAY["dir"], stdin=subprocess.DEVNULL, stdout=console,
                                 stderr=subprocess.STDOUT, start_new_session=True)


def _stop():
    """Stop the replay's QEMU, if it runs."""
    global _qemu
    if _qemu is not None:
        _qemu.kill()
        _qemu.wait()
        _qemu = None


def _restart():
    """Start the replay over: a fresh QEMU at instruction 0, GDB
    attached to it."""
    with _Quiet():
        gdb.execute("disconnect")
    _stop()
    _start()
    for _ in range(100):
        try:
            with _Quiet():
                gdb.execute(f"target remote 127.0.0.1:{_REPLAY['port']}")
            return
        except gdb.error:
            time.sleep(0.05)
    raise gdb.GdbError("the replay's QEMU did not start: see " + _REPLAY["console"])


def icount():
    """The replayed machine's instruction count; gdb.GdbError if it is no
    replay."""
    said = gdb.execute("monitor info replay", to_string=True)
    m = re.search(r"instruction count = (\d+)", said)
    if not m or _REPLAY is None:
        raise gdb.GdbError("not a replay: start one with `make replay-gdb T=lab/test` "
                           f"(QEMU says: {said.strip()})")
    return int(m.group(1))


class _Quiet:
    """A with-block in which the user's breakpoints are disabled, so that
    the way to a count is not stopped by them, and GDB's messages (the
    stops on the way) are not shown."""

    def __init__(self, keep=False):
        """keep: leave the breakpoints as they are (hide the messages only)."""
        self.keep = keep

    def __enter__(self):
        """Disable the enabled breakpoints (and remember them); hide the
        messages."""
        self.off = [] if self.keep else [b for b in gdb.breakpoints() if b.enabled]
        for b in self.off:
            b.enabled = False
        gdb.flush()
        self.saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)

    def __exit__(self, *exc):
        """Show the messages again; enable the breakpoints again."""
        gdb.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)
        for b in self.off:
            if b.is_valid():
                b.enabled = True


def _run_to(count):
    """Run the machine forward, breakpoints aside, to instruction count
    count (or to the recording's end)."""
    with _Quiet():
        gdb.execute(f"monitor replay_break {count}", to_string=True)
        gdb.execute("continue")


def seek(target):
    """Bring the replayed machine to instruction count target (from the
    start over if it is behind). Returns the count reached."""
    if target < icount():
        _restart()
    if target > icount():
        _run_to(target)
    return icount()


def _show(count):
    """Print where the machine is: its count, its frame and its next
    instruction."""
    gdb.set_convenience_variable("icount", count)
    gdb.write(f"at instruction count {count}:\n")
    gdb.execute("frame")
    gdb.execute("x/i $pc")


def _number(arg):
    """arg, a GDB expression, as an integer."""
    return int(gdb.parse_and_eval(arg))


class Icount(gdb.Command):
    """icount: the instruction count the replayed machine has reached (also
kept in $icount). `seek` with this count comes back here."""

    def __init__(self):
        """Register the command."""
        super().__init__("icount", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        """Print the count and keep it in $icount."""
        n = icount()
        gdb.set_convenience_variable("icount", n)
        gdb.write(f"instruction count {n}\n")


class Seek(gdb.Command):
    """seek N: bring the replayed machine to instruction count N, earlier
or later than now (breakpoints on the way do not stop it)."""

    def __init__(self):
        """Register the command."""
        super().__init__("seek", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        """Seek to the count arg."""
        if not arg.strip():
            raise gdb.GdbError("usage: seek N (icount shows the count now)")
        _show(seek(_number(arg)))


class Back(gdb.Command):
    """back [N]: go back N instructions (default 1) in the replayed machine:
the registers and memory are as they were N instructions ago."""

    def __init__(self, name):
        """Register the command as name."""
        super().__init__(name, gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        """Seek to the count now minus N."""
        n = _number(arg) if arg.strip() else 1
        now = icount()
        if not 1 <= n <= now:
            raise gdb.GdbError(f"back N: N from 1 to {now} (the instructions run so far)")
        _show(seek(now - n))


class ReverseContinue(gdb.Command):
    """reverse-continue: go back to the last stop before now of the enabled
breakpoints and watchpoints: at a breakpoint, its address; at a watchpoint,
the instruction that wrote the watched memory (`watch -l x` then
reverse-continue: the last write of x). It runs the replay from the start
and notes where it stops. Also `rc`."""

    def __init__(self, name):
        """Register the command as name."""
        super().__init__(name, gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        """Collect the stops before now, go to the last one."""
        now = icount()
        watching = [b for b in gdb.breakpoints() if b.enabled and b.type != gdb.BP_BREAKPOINT]
        _restart()
        stops = []
        with _Quiet(keep=True):
            gdb.execute(f"monitor replay_break {now}", to_string=True)
            while True:
                seen = sum(b.hit_count for b in watching if b.is_valid())
                gdb.execute("continue")
                count = icount()
                if count >= now:
                    break
                wrote = sum(b.hit_count for b in watching if b.is_valid()) > seen
                stops.append(count - 1 if wrote else count)
        if not stops:
            seek(now)
            raise gdb.GdbError(f"no breakpoint or watchpoint stops in the {now} instructions "
                               "so far")
        _show(seek(stops[-1]))


class LastWrite(gdb.Command):
    """last-write[/SIZE] ADDR: go back to the last instruction before now
that wrote the SIZE bytes (default 8) at ADDR, and show the value before
and after it. ADDR is an expression: `last-write $fp - 16`,
`last-write/4 &e->status`. It runs the replay from the start with a
watchpoint."""

    def __init__(self):
        """Register the command."""
        super().__init__("last-write", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        """Collect the counts of the writes to ADDR before now, go to the
        last one's and show the value before and after it."""
        m = re.fullmatch(r"\s*(?:/(\d+))?\s*(\S.*)", arg)
        if not m:
            raise gdb.GdbError("usage: last-write[/SIZE] ADDR")
        size = int(m.group(1) or 8)
        addr = _number(m.group(2))
        now = icount()
        hits = self._writes(addr, size, now)
        if not hits:
            seek(now)
            raise gdb.GdbError(f"nothing wrote 0x{addr:x} in the {now} instructions so far")
        new = self._read(addr, size, hits[-1])
        count = seek(hits[-1] - 1)
        old = self._read(addr, size)
        gdb.write(f"0x{addr:x} was last written by the instruction at count {count}: "
                  f"0x{old:x} -> 0x{new:x} ({len(hits)} writes in the {now} instructions)\n")
        _show(count)

    @staticmethod
    def _read(addr, size, at=None):
        """The size bytes at addr (at count at: the value then), as a
        little-endian number."""
        if at is not None:
            seek(at)
        data = gdb.selected_inferior().read_memory(addr, size)
        return int.from_bytes(bytes(data), "little")

    @staticmethod
    def _writes(addr, size, before):
        """The counts, in order, just after each instruction that wrote
        [addr, addr+size) in the replay's first `before` instructions."""
        _restart()
        hits = []
        with _Quiet():
            wp = gdb.Breakpoint(f"*(char (*)[{size}]) 0x{addr:x}", gdb.BP_WATCHPOINT,
                                gdb.WP_WRITE, internal=True)
            try:
                gdb.execute(f"monitor replay_break {before}", to_string=True)
                while True:
                    gdb.execute("continue")
                    count = icount()
                    if count >= before or wp.hit_count == len(hits):
                        break
                    hits.append(count)
            finally:
                wp.delete()
        return hits


if _REPLAY is not None and _qemu is None:
    _start()
    atexit.register(_stop)
Icount()
Seek()
Back("back")
LastWrite()
if _REPLAY is not None:  # GDB's own would ask QEMU, which never answers
    Back("reverse-stepi")
    Back("rsi")
    ReverseContinue("reverse-continue")
    ReverseContinue("rc")
