# Lab upcalls: ExOS handles its own exceptions. The kernel enters the
# program's exception entry with every register intact; ExOS saves them on
# its exception stack (ulib/xentry.S, the lab's first exercise), runs a
# handler in C (exos_set_handler and exos_dispatch, the second) and resumes
# without the kernel. The heap and the stack get their pages on demand, and
# the stack's guard page ends the program with a report (map_on_demand and
# report_overflow, the third).
#
# Each program here needs well under a second: a time limit of 5 s is
# reached only by a program stuck taking the same exception over and over.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))

STACK_LO = 0x3F00000000 - (1 << 20)  # EXOS_STACKTOP - EXOS_STACK_MAX: above the guard page
WRONG_PAGE = ("the page that faulted was still missing after the handler mapped one (ExOS took "
              "that for a revocation): map the page holding the address, PGROUNDDOWN(addr)")
ENDLESS = ("the exception stack overflowed: does exos_set_handler return the handler it replaced? "
           "(A handler that passes faults on to itself never stops.)")
BELOW_SP = ("the handler must not run on the stack the program was using (a fault there can be "
            "that stack's overflow): frames go on the exception stack, at EXOS_XSTACK_TOP unless "
            "sp is already on it")
STUCK = ("the program stopped making progress: an exception that no handler resolved was resumed "
         "again and again (exos_dispatch must not return when the handler returns 0)")
EXCEPTION_TARGET = 165   # instructions, ebreak to resume; the reference takes 153
PAGEFAULT_TARGET = 470   # instructions, a fault whose handler maps a page; the reference: 453


def unwritten(t, out):
    """True (with a hint) if the program died in the handout's stubs of
    xentry.S or exos_dispatch: no other hint applies then."""
    t.hint_if(out, r"ulib/xentry\.S is not written", "write the exception entry in ulib/xentry.S")
    t.hint_if(out, r"exos_dispatch\(\) is not written$", "write exos_dispatch() in ulib/exception.c")
    return "is not written" in out


@test(points=20, timeout=5)
def handlers(t):
    """Page faults (load, store, fetch), illegal instruction, breakpoint;
    the handler on the exception stack, 16-byte aligned, with exos_critical
    counted; a register-exact resume after a handler that changes every
    register C may change; a handler's change to the frame; nested
    exceptions leaving the outer frame intact; lazy heap, malloc; a guarded
    copy of a bad pointer fails with E_FAULT and the program goes on; a
    console write longer than the kernel prints at once prints it all."""
    out = t.qemu(bootargs="init=t_exos")
    t.expect(out, r"^t_exos: all \d+ checks passed$",
             r"^every register but gp survives an exception: ok$",
             r"^nested exception handled on the exception stack: ok$",
             r"^a copy into heap not yet touched maps it: ok$",
             r"^\.{65536}$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    if unwritten(t, out):
        return
    t.hint_if(out, r"^the handler ran on the exception stack: FAIL", BELOW_SP)
    t.hint_if(out, r"^every register but gp survives an exception: FAIL: got (\d+)",
         "a register changed across an exception (its number is what the check got): save and "
         "reload every register C code may change (ra, t0..t6, a0..a7) and sp and s0")
    t.hint_if(out, r"^its sp was 16-byte aligned: FAIL",
         "C code needs sp 16-byte aligned: the frame must start on a 16-byte boundary (the top "
         "of the exception stack, or the interrupted sp, minus XFRAME_SIZE)")
    t.hint_if(out, r"^it ran with exos_critical counted: FAIL",
         "count the upcall in exos_critical (add 1) before calling the handler")
    t.hint_if(out, r"^exos_critical is 0 again once the program resumed: FAIL",
         "count the upcall out of exos_critical (subtract 1) after the handler returns: left "
         "set, it stops every later asynchronous upcall")
    t.hint_if(out, r"^the outer handler's frame survived the inner exception: FAIL|"
                   r"^nested exception handled on the exception stack: FAIL|"
                   r"unhandled [\w ]+ at pc 0x3f7fff[c-f]",  # resumed into the exception stack
         "an exception taken on the exception stack (sp already on it) must put its frame below "
         "the interrupted sp, not at the top where the outer frame is")
    t.hint_if(out, r"^a handler's change to the frame's a0 is what the program resumes with: FAIL",
         "resume with the registers in the frame, which the handler may have changed")
    t.hint_if(out, r"^they hold what was stored: FAIL",
         "resume at the faulting instruction itself (leave f->pc as it is): it must run again")
    t.hint_if(out, r"^a copy into heap not yet touched maps it: FAIL",
         "a guarded access fails only if no handler resolves its fault: run the handler first")
    t.hint_if(out, r"^a copy into heap not yet touched maps it: ok\n.*read-only fails.*FAIL",
         "map a page only where none is mapped (vm_pte): a fault on a mapped page is not a missing "
         "page")
    t.hint_if(out, r"^a copy from an unmapped address fails: FAIL",
         "map a page on demand only in the heap (below the break) and the stack (above its guard)")
    t.hint_if(out, r"^a probe running off the heap fails: FAIL",
         "the heap ends at the break (heap_brk): a fault above it is no heap page")
    t.hint_if(out, r"^a copy into the stack's guard page fails: FAIL",
         "the page below STACK_LO is the stack's guard: never map it")
    t.hint_if(out, r"unhandled store page fault at pc 0x[0-9a-f]+, address 0x(?!0\b)",
         "a store to the heap was not resolved: does map_on_demand() map the missing page, "
         "writable (PTE_W)?")
    t.hint_if(out, r"^t_exos: stack overflow",
         "a guarded access (exos_fault_is_guarded) that touches the guard page fails the access "
         "(-E_FAULT): report an overflow only for other faults")
    t.hint_if(out, r"destroyed: fault on its exception stack", ENDLESS)
    t.hint_if(out, r"was taken by the kernel", WRONG_PAGE)
    if out.timed_out:
        t.hint(STUCK + "; or the resume does not jump to the frame's pc, which the handler moved")


@test(points=10, timeout=5)
def unhandled_report(t):
    """An unhandled fault, a failed assert and panic each end the program
    with a report and a backtrace through its own functions."""
    out = t.qemu(bootargs="init=t_crash", fatal=r"^panic",  # its own panic and assert are expected
                 stop=r"^rvexo: no environments left; powering off$|unhandled[\s\S]*unhandled")
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
    reports = len(re.findall(r"unhandled", out))
    t.check(reports <= 1, "the unhandled fault was reported again")
    null_report = r"store page fault at pc 0x[0-9a-f]+, address 0x0$"
    if unwritten(t, out):
        return
    if out.timed_out:
        t.hint(STUCK)
    elif "fault on its exception stack" in out:
        t.hint(ENDLESS)
    elif reports > 1:
        t.hint("end the program after the report: returning resumes the faulting instruction")
    elif "panic ended its program" in out and not re.search(null_report, out, re.M):
        t.hint("the store through a null pointer was not reported: map a page on demand only "
               "in the heap and the stack")
    t.hint_if(out, r"^  #0 .* crash_deep.*\n(?!  #1 .* crash_middle)",
         "crash_deep is a leaf: its caller is found through the return address, so give "
         "exos_backtrace() the ra the exception interrupted")


@test(points=10, timeout=5)
def stack_guard(t):
    """Running into the stack's guard page ends the program with a message."""
    out = t.qemu(bootargs="init=t_overflow")
    t.expect(out,
             r"^t_overflow: stack overflow: guard page hit at address 0x[0-9a-f]+ \(pc 0x[0-9a-f]+\)$",
             r"^  #0 0x[0-9a-f]+ recurse\+0x[0-9a-f]+$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic", r"unhandled")
    if unwritten(t, out):
        return
    m = re.search(r"unhandled store page fault at pc 0x[0-9a-f]+, address 0x([0-9a-f]+)", out)
    reported = "stack overflow: guard page hit" in out
    if reported and m:
        t.hint("end the program after the stack-overflow report (exit(-1)): the fault went on "
               "to the next handler")
    elif (m and int(m.group(1), 16) < STACK_LO) or "out of memory" in out:
        t.hint("the stack ran past its guard page: a fault there must not be mapped")
    elif m:
        t.hint("a store to the stack was not resolved: does map_on_demand() map the "
               "missing page, writable (PTE_W)?")
    elif out.timed_out and not reported:
        t.hint(BELOW_SP)
    t.hint_if(out, r"was taken by the kernel", WRONG_PAGE)


@test(points=10, timeout=5)
def exception_stack_overflow(t):
    """Exceptions nested without end overflow the exception stack: the kernel
    ends the program and keeps running."""
    out = t.qemu(bootargs="init=t_xoverflow")
    t.expect(out,
             r"^rvexo: env [0-9a-f]+ \(t_xoverflow\) destroyed: fault on its exception stack: "
             r"store page fault",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic")
    if not unwritten(t, out) and out.timed_out:
        t.hint("each nested exception must take a new frame on the exception stack, below the "
               "interrupted handler's sp: then the 16 KiB run out and the kernel ends the program")


@test(points=5, timeout=10)
def fast_exception(t):
    """An exception, from ebreak through exos_dispatch and its handler back
    to the next instruction, takes at most 165 instructions (the reference:
    153)."""
    if t.instructions("exception-upcall", EXCEPTION_TARGET, 153) > EXCEPTION_TARGET:
        t.hint("an exception saves and reloads only what C code may change (and sp and s0): "
               "the handler, C code, keeps s1..s11 and tp itself")


@test(points=5, timeout=10)
def fast_page_fault(t):
    """A page fault whose handler maps a page takes at most 470 instructions
    (the reference: 453)."""
    t.instructions("pagefault-map-only", PAGEFAULT_TARGET, 453)


@test(points=5, timeout=5)
def answers(t):
    """labs/upcalls/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
