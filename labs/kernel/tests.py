# The exokernel's own tests: each boots a test program from user/ as the
# first environment (init=NAME). The programs use the system calls directly,
# properly and as an attacker would, print one line per check, and run the
# kernel's invariant checker (kcheck) after each group.

import os
import re

from gradelib import *


def kernel_test(t, prog, timeout=None, extra_args=()):
    out = t.qemu(bootargs="init=" + prog, timeout=timeout, extra_args=extra_args)
    t.expect(out, r"^%s: all \d+ checks passed$" % prog,
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out


@test(points=20, timeout=60)
def page_tables(t):
    """PTE writes: every validation rule, grants, the reverse map, batches."""
    kernel_test(t, "t_pte")


@test(points=20, timeout=90)
def environments(t):
    """Create/start/destroy, exception upcalls, limits, 1000-cycle leak test."""
    out = kernel_test(t, "t_env")
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(illegal\) destroyed: no exception handler: "
             r"illegal instruction at pc 0x[0-9a-f]{16}, address 0x0{16}$",
             r"^rvexo: env [0-9a-f]+ \(badstack\) destroyed: fault on its exception stack: "
             r"store page fault at pc 0x[0-9a-f]{16}, address 0x00000027fffffff8$",
             r"^rvexo: env [0-9a-f]+ \(badentry\) destroyed: its exception handler faulted at "
             r"its entry: instruction page fault at pc 0x0000000000005000")


@test(points=20, timeout=60)
def time_slices(t):
    """Slice vector, prologue/epilogue upcalls, overruns, proportional share.
    Under -icount shift=0 the clock follows the instructions, so a busy host
    cannot make a well-behaved epilogue overrun its grace period."""
    out = kernel_test(t, "t_sched", extra_args=["-icount", "shift=0"])
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(stubborn\) overran its epilogue \(1 of 3\)",
             r"^rvexo: env [0-9a-f]+ \(stubborn\) destroyed: epilogue overran its grace period 3 times$")
    overruns = len(re.findall(r"^rvexo: env [0-9a-f]+ \(erratic\) overran its epilogue \(1 of 3\)",
                              out, re.M))
    if overruns < 3:
        t.fail(f"the erratic child overran {overruns} times, not 3 or more, each the first in a row")


@test(points=20, timeout=60)
def pct(t):
    """Protected control transfer: call, reply, send, refusal, dead callees.
    The counting server accepts anyone, so a message may enter it before it
    has finished the last one if its slice ends in between (PCT_ONCE is what
    prevents that): under -icount shift=0 slices end at fixed instruction
    counts, so a busy host cannot move the end into that window."""
    kernel_test(t, "t_pct", extra_args=["-icount", "shift=0"])


@test(points=20, timeout=60)
def revocation(t):
    """Visible revocation, the abort protocol, repossession, memory pressure."""
    out = kernel_test(t, "t_revoke", extra_args=["-icount", "shift=0"])  # deadlines in instructions
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(stubborn\) did not answer a revocation; took 10$",
             r"^rvexo: env [0-9a-f]+ \(hog\) did not answer a revocation; took 16$",
             r"^child: repossession vector names 10 pages taken from its pool: ok$")
    t.forbid(out, r"\(sleeper\) did not answer a revocation")


@test(points=20, timeout=60)
def disk(t):
    """virtio-blk block-range bindings: I/O, pinning, attacks, abandoned requests."""
    out = kernel_test(t, "t_disk")
    t.expect(out, r"^rvexo: disk of 4096 blocks \(16384 KiB\)$")


@test(points=20, timeout=60)
def lifecycles(t):
    """Sequences that once escaped protection: destroy while waiting or while
    the disk writes a page, orphans, pools taken whole, page 0, 66,000
    mappings of a page, sleeping servers' registers, kernel addresses left
    in registers; and a never-started orphan does not keep the machine on."""
    # A throttled disk keeps a read in flight through a destroy (t_sound's
    # disk_dma), as a real device would, instead of finishing at once; and
    # under -icount rdinstret counts kcheck's instructions exactly.
    out = kernel_test(t, "t_sound", extra_args=["-set", "drive.disk0.throttling.iops-total=50",
                                                "-icount", "shift=0"])
    t.forbid(out, r"destroyed: no exception handler")


# The fuzzer (user/fuzz.c): FUZZ_CALLS system calls per seed, its own and
# its children's; one seed normally, ten (a million calls) with RVEXO_FULL=1.
FULL = os.environ.get("RVEXO_FULL", "") == "1"
FUZZ_SEEDS = range(1, 11) if FULL else range(1, 2)
FUZZ_CALLS = 100000


def fuzz_failure(seed, out):
    """What went wrong in the fuzzer's run for seed (None if nothing): the
    reason, where it had got to, the kernel's last words and how to replay."""
    summary = re.search(r"^fuzz: seed \d+: (\d+) calls .*: (OK|FAILED.*)$", out, re.M)
    if (summary and summary.group(2) == "OK" and int(summary.group(1)) >= FUZZ_CALLS and
            re.search(r"powering off$", out, re.M)):
        return None
    progress = re.findall(r"^fuzz: seed \d+: call (\d+)$", out, re.M)
    at = int(progress[-1]) if progress else 0
    if re.search(r"^panic", out, re.M):
        why = "the kernel panicked"
    elif summary and summary.group(2) != "OK":
        why = summary.group(0)
    elif summary and int(summary.group(1)) < FUZZ_CALLS:
        why = f"it made only {summary.group(1)} calls"
    elif summary:
        why = "the machine did not power off"
    elif out.timed_out:
        why = "it hung"
    else:
        why = "it ended without its summary line"
    tail = [l for l in out.splitlines() if re.match(r"panic|  #|  sepc|  stval|fuzz: FAIL|kcheck:", l)
            and not l.endswith("kcheck: OK")]
    when = f"after call {at} of its own" if at else "in its first calls"
    return (f"seed {seed}: {why}, {when}\n" + "\n".join(tail[-12:]) +
            f"\nreplay: make qemu ICOUNT=1 ARGS='init=fuzz seed={seed} calls={FUZZ_CALLS} "
            f"trace={max(at, 1)}'")


def syscall_names():
    """{number: name} from kernel/abi.h's SYSCALL_LIST."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "kernel", "abi.h")) as f:
        return {int(n): name for n, name in re.findall(r"X\((\d+), (\w+), (?:long|void),", f.read())}


def calls_at_panic(t, seed):
    """Run seed again under GDB, stopped where the kernel powers off; if it
    panicked, return the last calls of the environment whose call or fault
    it panicked in, read from that environment's own record (fuzz.c's
    F.ring: the same program text, so the same address, in every fuzzing
    environment). The run is not the first one to the instruction (the
    disk answers in host time), so it may panic elsewhere, or not at all."""
    gdb_out, qemu_out = t.gdb(["break poweroff", "continue", "user fuzz", "print F.me",
                               "print F.calls", "print F.ring"],
                              bootargs=f"init=fuzz seed={seed} calls={FUZZ_CALLS}",
                              extra_args=["-icount", "shift=0"])
    panic = re.search(r"^panic.*$", qemu_out, re.M)
    me = re.search(r"^\$1 = (\d+)$", gdb_out, re.M)
    ncalls = re.search(r"^\$2 = (\d+)$", gdb_out, re.M)
    if not panic or not me or not ncalls:
        return "run again under GDB, it did not panic"
    names = syscall_names()
    recs = re.findall(r"\{n = (\d+), num = (\d+), a = \{([-\d, ]+)\}, ret = (-?\d+)\}", gdb_out)
    lines = [f"  #{n} {names.get(int(num), num)}(" +
             ", ".join(f"{int(a) & (2**64 - 1):x}" for a in args.split(", ")) + ") " +
             (f"= {ret}" if int(n) < int(ncalls.group(1)) else "<- the kernel stopped in this call")
             for n, num, args, ret in sorted(recs, key=lambda r: int(r[0])) if names.get(int(num))]
    return (f"run again under GDB, it panicked ({panic.group(0)}) in env {int(me.group(1)):x}, "
            "whose last calls were:\n" + "\n".join(lines))


def calls_before_hang(t, seed, out):
    """Run seed again with every call traced from the last progress line of
    out, and return what that run showed last (it may end otherwise: the
    printing moves the moments the children and the disk run at)."""
    at = (re.findall(r"^fuzz: seed \d+: call (\d+)$", out, re.M) or ["1"])[-1]
    again = t.qemu(bootargs=f"init=fuzz seed={seed} calls={FUZZ_CALLS} trace={at}",
                   extra_args=["-icount", "shift=0"])
    calls = re.findall(r"^(?:\[[0-9a-f]+\] )?#\d+ .*$", again, re.M)
    return (f"run again with trace={at} (its calls, and [env] its children's), it " +
            ("failed again" if fuzz_failure(seed, again) else "passed") +
            "; its last calls:\n" + "\n".join(calls[-8:]))


@test(points=20, timeout=30)
def fuzzer(t):
    """Random system calls and call sequences, chosen by a seed, from
    several cooperating environments, neither panic nor hang the kernel,
    break an invariant kcheck checks, leave a kernel address in a register
    or let an environment escape its creator's control."""
    first, failed = None, []
    for seed in FUZZ_SEEDS:
        out = t.qemu(bootargs=f"init=fuzz seed={seed} calls={FUZZ_CALLS}",
                     extra_args=["-icount", "shift=0"])  # time follows the instructions
        why = fuzz_failure(seed, out)
        if why is None:
            continue
        failed.append(str(seed))
        if first is None:  # the first failure in detail, with what led to it
            if re.search(r"^panic", out, re.M):
                why += "\n" + calls_at_panic(t, seed)
            elif not re.search(r"^fuzz: seed \d+: \d+ calls \(", out, re.M):
                why += "\n" + calls_before_hang(t, seed, out)
            first = why
    if first:
        t.fail(first + f"\nseeds that failed: {' '.join(failed)} of {len(FUZZ_SEEDS)}")
