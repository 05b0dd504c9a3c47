# Lab sched: scheduling policy in the library. The kernel offers time-slice
# ownership and directed yield; ExOS builds a stride scheduler on them, and
# preemptive threads on the prologue and epilogue upcalls (the `threads`
# test grades the code marked `LAB threads`, which comes right after sched
# in LAB_ORDER).

from gradelib import *


@test(points=20, timeout=60)
def stride_3_2_1(t):
    """Three CPU-bound children with tickets 3:2:1 get CPU within 10% of 3:2:1."""
    out = t.qemu(bootargs="init=stride")
    t.expect(out,
             r"^stride: child with 3 tickets ran [\d.]+% of the time",
             r"^stride: shares match 3:2:1 within 10%$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"DO NOT match", r"panic", r"unhandled")


@test(points=30, timeout=60)
def threads(t):
    """ExOS threads preempted by the prologue/epilogue upcalls: create, join,
    yield, register-exact resumption, a mutex that matters, exceptions inside
    threads, and the deadlock and stack-overflow reports."""
    out = t.qemu(bootargs="init=t_thread")
    t.expect(out,
             r"^t_thread: all \d+ checks passed$",
             r"^both spinners progressed without yielding: ok$",
             r"^every register survived preemption \(loop A\): ok$",
             r"^every register survived preemption \(loop B\): ok$",
             r"^without the mutex, updates are lost: ok$",
             r"^with the mutex, exactly the expected total: ok$",
             r"^t_thread: deadlock: every thread is blocked$",
             r"^t_thread: thread \d+: stack overflow: guard page hit at address 0x[0-9a-f]+",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
