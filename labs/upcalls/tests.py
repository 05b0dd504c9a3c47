# Lab upcalls: ExOS handles its own exceptions. The kernel enters the
# program's exception entry with every register intact; ExOS saves them on
# its exception stack, runs a handler in C and resumes without the kernel.

from gradelib import *


@test(points=20, timeout=30)
def handlers(t):
    """Page faults (load, store, fetch), illegal instruction, breakpoint,
    register-exact resume, nested exceptions, lazy heap, malloc; a guarded
    copy of a bad pointer fails with E_FAULT and the program goes on; a
    console write longer than the kernel prints at once prints it all."""
    out = t.qemu(bootargs="init=t_exos")
    t.expect(out, r"^t_exos: all \d+ checks passed$",
             r"^every register but gp survives an exception: ok$",
             r"^nested exception handled on the exception stack: ok$",
             r"^a copy into heap not yet touched maps it: ok$",
             r"^\.{65536}$")
    t.forbid(out, r"FAIL", r"panic")


@test(points=10, timeout=30)
def unhandled_report(t):
    """An unhandled fault, a failed assert and panic each end the program
    with a report and a backtrace through its own functions."""
    out = t.qemu(bootargs="init=t_crash")
    t.expect(out,
             r"^t_crash: unhandled store page fault at pc 0x[0-9a-f]+, address 0x0$",
             r"^  #0 0x[0-9a-f]+ crash_deep[.\w]*\+0x[0-9a-f]+$",
             r"^  #1 0x[0-9a-f]+ crash_middle[.\w]*\+0x[0-9a-f]+$",
             r"^  #2 0x[0-9a-f]+ main\+0x[0-9a-f]+$",
             r"^t_crash: assertion failed: x \+ 1 == 3 at user/t_crash\.c:\d+$",
             r"^  #1 0x[0-9a-f]+ assert_sum[.\w]*\+0x[0-9a-f]+$",
             r"^t_crash: the assert ended its program with status -1$",
             r"^t_crash: panic: deliberate panic 42$",
             r"^  #1 0x[0-9a-f]+ panic_middle[.\w]*\+0x[0-9a-f]+$",
             r"^t_crash: panic ended its program with status -1$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"not reached", r"kernel panic", r"^panic")


@test(points=10, timeout=30)
def stack_guard(t):
    """Running into the stack's guard page ends the program with a message."""
    out = t.qemu(bootargs="init=t_overflow")
    t.expect(out,
             r"^t_overflow: stack overflow: guard page hit at address 0x[0-9a-f]+ \(pc 0x[0-9a-f]+\)$",
             r"^  #0 0x[0-9a-f]+ recurse\+0x[0-9a-f]+$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic")


@test(points=10, timeout=30)
def exception_stack_overflow(t):
    """Exceptions nested without end overflow the exception stack: the kernel
    ends the program and keeps running."""
    out = t.qemu(bootargs="init=t_xoverflow")
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(t_xoverflow\) destroyed: fault on its exception stack: "
             r"store page fault",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic")
