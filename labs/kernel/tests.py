# The exokernel's own tests: each boots a test program from user/ as the
# first environment (init=NAME). The programs use the system calls directly,
# properly and as an attacker would, print one line per check, and run the
# kernel's invariant checker (kcheck) after each group.

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
    """Protected control transfer: call, reply, send, refusal, dead callees."""
    kernel_test(t, "t_pct")


@test(points=20, timeout=60)
def revocation(t):
    """Visible revocation, the abort protocol, repossession, memory pressure."""
    out = kernel_test(t, "t_revoke", extra_args=["-icount", "shift=0"])  # deadlines in instructions
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(stubborn\) did not answer a revocation; took 10$",
             r"^rvexo: env [0-9a-f]+ \(hog\) did not answer a revocation; took 16$",
             r"^child: repossession vector names 10 pages taken from its pool: ok$")


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
    # disk_dma), as a real device would, instead of finishing at once.
    out = kernel_test(t, "t_sound", extra_args=["-set", "drive.disk0.throttling.iops-total=50"])
    t.forbid(out, r"destroyed: no exception handler")
