# Lab sched: scheduling policy in the library. The kernel offers time-slice
# ownership and directed yield; ExOS builds a stride scheduler on them, and
# preemptive threads on the prologue and epilogue upcalls (the `threads`
# test grades the code marked `LAB threads`, which comes right after sched
# in LAB_ORDER).

from gradelib import *


@test(points=20, timeout=60)
def stride_3_2_1(t):
    """Three CPU-bound children with tickets 3:2:1 get CPU within 10% of 3:2:1.
    Under -icount shift=0 a slice is a count of instructions: a busy host
    that stops QEMU now and then must not take a child's slice away."""
    out = t.qemu(bootargs="init=stride", extra_args=["-icount", "shift=0"])
    t.expect(out,
             r"^stride: child with 3 tickets ran [\d.]+% of the time",
             r"^stride: shares match 3:2:1 within 10%$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"DO NOT match", r"panic", r"unhandled")
