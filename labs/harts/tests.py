# The exokernel on several harts (kernel/smp.c), as a whole: harts come
# up, panics on any hart, t_smp on 2, 4 and 8 harts, siblings on 1 and 4,
# the lifecycle attacks and the fuzzer on 4. (Lab smp, the shootdowns, is labs/smp.) Each test
# boots with -smp and, but for the lifecycles, without -icount: under it QEMU
# runs the harts one after another; here what matters is real parallelism.
# (QEMU records machines of one hart only: these runs are not replayable.)

import re

from gradelib import *


@test(points=10, timeout=30)
def harts_up(t):
    """With CPUS=4 every hart comes up, and the shell runs commands on them."""
    out = t.qemu(extra_args=["-smp", "4"],
                 send=[(r"\$ $", "echo four harts | wc\n"), (r"\$ $", "ps\n")],
                 stop=r"\n\s*PID.*\n(?:.*\n)*?\$ ")
    t.expect(out, r"^rvexo: exokernel for RISC-V, 4 harts \(booted on hart \d\)",
             r"^init: hello from user space",
             r"^1 2 11 ?$")
    up = sorted(set(re.findall(r"^rvexo: hart (\d) up$", out, re.M)))
    if len(up) != 3:
        t.fail(f"{len(up)} other harts said they were up, not 3")


@test(points=10, timeout=30)
def backtrace_other_hart(t):
    """A panic on a hart other than the boot hart prints its backtrace, read
    from that hart's own kernel stack, down to the code that started it."""
    out = t.qemu(bootargs="ktest=hartpanic", extra_args=["-smp", "2"])
    t.expect(out, r"^panic at kernel/ktest\.c:\d+: ktest: deliberate panic on hart \d$",
             r"^  #1 0x[0-9a-f]{16} ktest_hart_panic\+0x[0-9a-f]+$",
             r"^  #3 0x[0-9a-f]{16} kmain_hart\+0x[0-9a-f]+$",
             r"^  #4 0x[0-9a-f]{16} _start_hart\+0x[0-9a-f]+$")


def program_passes(t, program, harts):
    """Boot `program` as init on this many harts: all its checks pass and
    the machine powers off with nothing left, without a panic."""
    out = t.qemu(bootargs="init=" + program, extra_args=["-smp", str(harts)])
    t.expect(out, r"^%s: all \d+ checks passed$" % program,
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=20, timeout=60)
def two_harts(t):
    """On two harts: a mapping replaced on one hart is gone from the other's
    TLB when the call returns (300 rounds against a reader that keeps it
    warm); a child running on the other hart destroyed, and nothing left;
    slices named by hart; a child owning all of hart 1 runs there alone."""
    program_passes(t, "t_smp", 2)


@test(points=20, timeout=60)
def four_harts(t):
    """The same on four harts (the reader may move between them)."""
    program_passes(t, "t_smp", 4)


@test(points=10, timeout=60)
def siblings_one_hart(t):
    """Siblings (environments sharing one address space, user/t_sibling)
    on one hart: a sibling writes its owner's memory, allocates pages that
    are the owner's, controls none of the owner's other children; a sibling
    destroyed, and an owner destroyed three ways (by its parent, by its own
    exit, by a sibling) with siblings alive, and while its siblings hold
    slices, a child, a disk read and a PCT call: all gone, no slice held,
    the child and the server live on, no page left; a mapping made
    read-only stops a sibling's stores."""
    program_passes(t, "t_sibling", 1)


@test(points=20, timeout=60)
def siblings_four_harts(t):
    """The same on four harts, where siblings run beside each other: a
    mapping replaced in the shared tables is gone from a sibling's TLB on
    another hart when the call returns (300 rounds), a sibling storing
    through a mapping made read-only stores nothing after the call
    returns, and an owner dies while its siblings run on other harts."""
    program_passes(t, "t_sibling", 4)


@test(points=10, timeout=60)
def hart_threads_one_hart(t):
    """Hart threads (ExOS threads that run beside the program, each alone
    in a sibling environment, user/t_hart) on one hart: a mutex shared with
    the program's own threads loses no update, a bounded buffer passes every
    item in order, a hart thread's heap faults are handled, joined ones
    leave no page behind, and exit() in one ends the whole program with its
    status."""
    program_passes(t, "t_hart", 1)


@test(points=20, timeout=60)
def hart_threads_four_harts(t):
    """The same on four harts, where three hart threads and two of the
    program's own threads take one mutex 2,000 times each, truly in
    parallel (seen running beside each other)."""
    program_passes(t, "t_hart", 4)


@test(points=10, timeout=60)
def hart_threads_deadlock(t):
    """Two hart threads on two harts each holding the mutex the other
    waits for, while the program's first thread waits to join them: the
    program ends with the deadlock report, naming who waits for whom."""
    out = t.qemu(bootargs="init=t_hart deadlock", extra_args=["-smp", "4"])
    t.expect(out, r"^t_hart: deadlock: every thread is blocked$",
             r"^  thread 1 waits for thread 2 to finish$",
             r"^  thread 2 waits for a mutex held by thread 3$",
             r"^  thread 3 waits for a mutex held by thread 2$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=10, timeout=90)
def eight_harts(t):
    """On eight harts (MAXHARTS, the most CPUS may be): every hart comes
    up, and t_smp passes there."""
    out = t.qemu(bootargs="init=t_smp", extra_args=["-smp", "8"])
    t.expect(out, r"^rvexo: exokernel for RISC-V, 8 harts \(booted on hart \d\)",
             r"^t_smp: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap", r"came up")
    up = set(re.findall(r"^rvexo: hart (\d) up$", out, re.M))
    if len(up) != 7:
        t.fail(f"{len(up)} other harts said they were up ({sorted(up)}), not 7")


@test(points=10, timeout=60)
def through_the_firmware(t):
    """On a machine without an ACLINT SSWI device (aclint=off) whose harts
    lack Sstc (sstc=off), the kernel sets its timers and interrupts other
    harts through SBI calls instead, and t_smp passes on four harts (the
    direct ways would fault there: the kernel found out from the device
    tree, and from a read of stimecmp that traps)."""
    out = t.qemu(bootargs="init=t_smp",
                 extra_args=["-smp", "4", "-machine", "aclint=off", "-cpu", "rv64,sstc=off"])
    t.expect(out, r"^t_smp: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


# Instructions a fork-exit-wait (smpbench quick, every hart's) that the
# scaling rows stay under when IPIs go through the SSWI device; through
# the firmware they take 360,000 or more.
IPI_DIRECT_LIMIT = 320000


@test(points=10, timeout=60)
def ipis_without_the_firmware(t):
    """On the default machine (aclint=on), IPIs go straight to the SSWI
    device: smpbench quick under -icount shift=0,sleep=off (the same counts
    every run) stays under IPI_DIRECT_LIMIT instructions a fork-exit-wait
    for 1, 2 and 4 processes at once."""
    out, rows = smpbench_quick(t)
    t.expect(out, r"^smpbench: done$")
    t.forbid(out, r"panic", r"kernel trap", r"FAIL")
    if len(rows) != 3:
        t.fail(f"{len(rows)} scaling rows, not 3")
    for n, per_op in rows:
        t.check(per_op <= IPI_DIRECT_LIMIT,
                f"{n} at once: {per_op:,} instructions a fork-exit-wait, over "
                f"{IPI_DIRECT_LIMIT:,} (are IPIs going through the firmware?)")


@test(points=20, timeout=60)
def lifecycles_four_harts(t):
    """The kernel's lifecycle attacks (user/t_sound) on four harts: children
    run beside the attacker, servers in calls on other harts, destroys of
    environments running elsewhere; nothing escapes, kcheck holds. (Under
    -icount, as on one hart: t_sound counts kcheck's instructions, which
    rdinstret gives exactly only there; the harts then take turns.)"""
    out = t.qemu(bootargs="init=t_sound", extra_args=[
        "-smp", "4", "-icount", "shift=0", "-set", "drive.disk0.throttling.iops-total=50"])
    t.expect(out, r"^t_sound: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap", r"destroyed: no exception handler")


@test(points=20, timeout=120)
def fuzzer_four_harts(t):
    """The fuzzer (user/fuzz.c, seed 1, 100,000 calls) on four harts, its
    environments found running on several of them at once."""
    out = t.qemu(bootargs="init=fuzz seed=1 calls=100000", extra_args=["-smp", "4"])
    t.expect(out, r"^fuzz: seed 1: \d+ calls \(.*\), \d+ kchecks: OK$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic", r"kernel trap", r"fuzz: FAIL")
    ran = re.search(r"^fuzz: its environments ran on (\d) of 4 harts$", out, re.M)
    if not ran or int(ran.group(1)) < 2:
        t.fail("the fuzzing environments did not run on several harts" +
               (f" (on {ran.group(1)} only)" if ran else ""))
