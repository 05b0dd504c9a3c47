# The lecture demos (README.md, "Demos"; `make demo`): a suite of the
# system, not a lab. Every demo runs by name, as `make demo NAME=x` runs it
# (init=demo x under -icount shift=0; crash, ash and fuzz through labs/demo.py's
# own code, on this test's machines), and ends with its verdict; the demos
# that run in the machine also run from the shell, once, in one session.

import os
import re
import sys

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import bench  # noqa: E402
import demo  # noqa: E402  (labs/demo.py)

ICOUNT = ONE_HART + ["-icount", "shift=0"]  # as make demo boots them

# Each in-machine demo's verdict or figure line: what it must end with.
VERDICTS = {
    "bindings": r"^bindings: verdict: 10 of 10 hostile writes refused, kcheck OK$",
    "upcall": r"^upcall: verdict: a demand-zero fault costs [\d.]+x fewer instructions in the "
              r"library OS$",
    "paging": r"^pagedemo: the program's own policy took \d+% of the default's instructions$",
    "stride": r"^stride: verdict: the shares follow the tickets, before and after the change$",
    "revoke": r"^revoke: verdict: the cooperative child chose its pages, the ignoring one lost",
    "pct": r"^pct: verdict: xv6's pipe round trip costs [\d.]+x a PCT round trip",
    "bench": r"^bench: verdict: fewer instructions than xv6 on 5 of 5 rows",
}
IN_MACHINE = [name for name, in_machine, _ in demo.demos() if in_machine]
PROMPT = r"(^|\n)\$ $"


@test(points=1, timeout=20)
def listed(t):
    """make demo lists every demo of user/demo.c's table (at least eight),
    and the demo program in the machine lists the same ones."""
    names = [name for name, _, _ in demo.demos()]
    t.check(len(names) >= 8 and set(VERDICTS) | {"crash", "ash", "fuzz"} == set(names),
            f"user/demo.c's table, as labs/demo.py reads it: {names}")
    host = t.run(["python3", "labs/demo.py", "--", "true"])
    machine = t.qemu(bootargs="init=demo")
    for name in names:
        t.expect(host, rf"^  {name} ")
        t.expect(machine, rf"^  {name} ")


# Why a demo's boot is not recorded for make replay (gradelib): paging runs
# pagedemo, as labs/revoke's paging tests do (from_the_shell runs it too).
NORECORD = {"paging": "pagedemo gives each scan 200 ms of virtual time, and QEMU's record mode "
                      "moves the virtual clock on while the disk works: the deadline would pass"}


def by_name(name):
    """A test that boots init=demo NAME under -icount: the demo's verdict,
    then demo's "done"."""
    def run(t):
        out = t.qemu(bootargs=f"init=demo {name}", extra_args=ICOUNT,
                     norecord=NORECORD.get(name))
        t.expect(out, rf"^demo {name}: ", VERDICTS[name], rf"^demo {name}: done$")
        t.forbid(out, r"FAIL", r"panic", r"unhandled", r"ACCEPTED")
    run.__name__ = f"{name}_by_name"
    run.__doc__ = f"make demo NAME={name}: it runs as the first program and ends with its verdict."
    return run


for _name in IN_MACHINE:
    test(points=2, timeout=120)(by_name(_name))


@test(points=2, timeout=60)
def crash_by_name(t):
    """make demo NAME=crash: a crash at disk write 61, a reboot on the same
    disk, the tree holds the operations completed and fsck finds it clean."""
    def fsck():
        r = t.run([demo.FSCK, t.disk()])
        return r.returncode == 0 and re.search(r": clean: ", r) is not None, str(r)
    said = []
    ok = demo.crash(lambda args: t.qemu(bootargs=args), fsck, say=said.append)
    text = "\n".join(said)
    t.expect(text, r"^crash: first boot: \d+ operations completed; rvexo: diskcrash: ",
             r"^crash: verdict: the file system is consistent and holds the first \d+ operations$")
    t.check(ok, f"the crash demo failed:\n{text}")


# Why the ash demo's boots are not recorded (gradelib): the owner's round
# trips depend on when, in the machine's time, the peer's answer comes, and
# record mode hands a frame over only at its clock's next checkpoint (a run
# with one busy process then measured 1,707 instead of about a slice).
ASH_NORECORD = ("the owner's round trips depend on when, in the machine's time, the peer's "
                "answer comes, and QEMU's record mode delivers a frame only at its next clock "
                "checkpoint")


@test(points=2, timeout=120)
def ash_by_name(t):
    """make demo NAME=ash: with the host's peer on the wire, the handler's
    round trip stays flat from 0 to 8 busy processes and the owner's grows."""
    peer = bench.Peer()
    said = []
    try:
        ok = demo.ash(lambda args: t.qemu(bootargs=args, extra_args=peer.qemu_args() + ICOUNT,
                                          norecord=ASH_NORECORD),
                      say=said.append)
    finally:
        peer.close()
    text = "\n".join(said)
    t.expect(text, r"^ash: verdict: the handler's round trip [\d,]+\.\.[\d,]+ stays flat from 0 "
                   r"to 8 busy processes; the owner's [\d,]+ to [\d,]+ grows with them$")
    t.check(ok, f"the ash demo failed:\n{text}")


@test(points=2, timeout=60)
def fuzz_by_name(t):
    """make demo NAME=fuzz: the system-call fuzzer as the first program
    ends with every kcheck passed and nothing out of its control."""
    said = []
    ok = demo.fuzz(lambda args: t.qemu(bootargs=args), say=said.append)
    text = "\n".join(said)
    t.expect(text, r"^fuzz: seed 1: \d+ calls .*: OK$",
             r"^fuzz: verdict: every kcheck passed; nothing escaped the fuzzer$")
    t.check(ok, f"the fuzz demo failed:\n{text}")


@test(points=4, timeout=300)
def from_the_shell(t):
    """Every in-machine demo runs from the shell (`demo x`), one after the
    other in one session, each ending with its verdict and status 0; the
    host-only ones say how to run them."""
    commands = [f"demo {name}; echo status {name} $?" for name in IN_MACHINE]
    commands += ["demo crash", "echo end-of-session"]
    out = t.qemu(send=[(PROMPT, c + "\n") for c in commands], stop=r"^end-of-session$",
                 extra_args=ICOUNT, norecord=NORECORD["paging"])
    for name in IN_MACHINE:
        t.expect(out, VERDICTS[name], rf"^status {name} 0$")
    t.expect(out, r"^demo crash: it needs the host \(it reboots the machine\): run it with make "
                  r"demo NAME=crash$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"ACCEPTED")
