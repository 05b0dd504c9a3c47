# Lab threads: user-level threads inside one environment, preempted by
# ExOS's own prologue and epilogue handlers (the kernel only says when a
# slice begins and ends).

from gradelib import *


@test(points=30, timeout=60)
def threads(t):
    """ExOS threads preempted by the prologue/epilogue upcalls: create, join,
    yield, register-exact resumption, a mutex that matters, exceptions inside
    threads, and the deadlock and stack-overflow reports. Under -icount
    shift=0 the clock follows the instructions: the test sizes its delays
    by the clock, and a busy host must not change how often a slice ends
    during them."""
    out = t.qemu(bootargs="init=t_thread", extra_args=["-icount", "shift=0"])
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
