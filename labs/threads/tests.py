# Lab threads: user-level threads inside one environment, preempted by
# ExOS's own prologue and epilogue handlers (the kernel only says when a
# slice begins and ends).

import os

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))


# The symptoms of the typical mistakes in the LAB threads code, and what
# to tell the student who shows one (the first failing check of the fair
# mutex names the mistake: the hints for the later ones require the
# earlier ones to have passed).
HINTS = [
    (r"four threads created with ids of their own: FAIL",
     "thread_create gave no thread: write it (and switch_to, block, thread_yield, "
     "thread_join, thread_exit) first; the handout's stubs return -E_NOSYS"),
    (r"^(both spinners progressed|prologues switched).*FAIL",
     "a thread that never yields kept the processor: next_runnable must search from the "
     "slot AFTER from's, round-robin, and come to from itself last"),
    (r"unhandled .* address 0x[0-9a-f]{1,3}\n",
     "a NULL thread was run, or a thread resumed from a record that does not hold its "
     "registers: when from is the only runnable thread, next_runnable must return from "
     "itself (the search ends at from's own slot); and exos_thread_switch must store ra "
     "(as the pc and as ra), sp, tp, s0..s11 and exos_critical in from's record"),
    (r"unhandled (?!.* address 0x[0-9a-f]{1,3}\n)|every register a call keeps survived.*FAIL",
     "a thread came back from a switch with registers that were not its own: "
     "exos_thread_switch must store every register a call keeps (ra, sp, tp, s0..s11) "
     "and exos_critical in from's record, each in the frame slot of its number"),
    (r"returned its sum: FAIL",
     "thread_join returned before the thread had finished: it must block until the "
     "thread is done (T_DONE), and only then free its slot and stack"),
    (r"waits for thread [1-9]\d* to finish",
     "a thread blocked in thread_join was never woken: thread_exit must make the "
     "threads joining it runnable"),
    (r"waits for thread 0 to finish",
     "a thread blocked in mutex_lock never became runnable again: mutex_unlock must make "
     "the thread it hands the mutex to runnable"),
    (r"^with the mutex, exactly the expected total: FAIL",
     "two threads held the mutex at once: mutex_lock returns to a woken waiter as its "
     "owner, so mutex_unlock must make it the owner (m->owner), not free the mutex"),
    (r"^threads waiting for a mutex do not run.*FAIL",
     "a thread waiting for a mutex kept running: mutex_lock must block it (T_BLOCKED, then"
     " block()), not yield in a loop"),
    (r"do not run.*: ok\n(.*\n)*?the unlocking thread cannot take the mutex back.*FAIL",
     "mutex_unlock freed the mutex and its caller took it again before the woken waiter "
     "ran: hand the mutex over to the waiter (it owns it when it wakes)"),
    (r"cannot take the mutex back.*: ok\nthe mutex goes to the longest waiter.*FAIL",
     "the mutex went to its waiters out of order (see the order printed above it): "
     "mutex_lock notes when a thread began to wait (wait_since), and mutex_unlock picks "
     "the waiter with the SMALLEST wait_since"),
]


@test(points=30, timeout=20)
def threads(t):
    """ExOS threads preempted by the prologue/epilogue upcalls: create, join,
    yield, register-exact resumption, a mutex that matters and is fair
    (its waiters block and get it first come, first served), exceptions
    inside threads, and the deadlock and stack-overflow reports. Under
    -icount shift=0 the clock follows the instructions: the test sizes its
    delays by the clock, and a busy host must not change how often a slice
    ends during them. t_thread stops at its first failing section."""
    out = t.qemu(bootargs="init=t_thread", extra_args=["-icount", "shift=0"])
    t.expect(out,
             r"^t_thread: all \d+ checks passed$",
             r"^both spinners progressed without yielding: ok$",
             r"^every register survived preemption \(loop A\): ok$",
             r"^every register survived preemption \(loop B\): ok$",
             r"^without the mutex, updates are lost: ok$",
             r"^with the mutex, exactly the expected total: ok$",
             r"^the mutex goes to the longest waiter each time \(first come, first served\): ok$",
             r"^t_thread: deadlock: every thread is blocked$",
             r"^t_thread: thread \d+: stack overflow: guard page hit at address 0x[0-9a-f]+",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    for rx, hint in HINTS:
        t.hint_if(out, rx, hint)
    if "stack overflow" in out and "all four joined" not in out:
        t.hint("a new thread overflowed its stack at once: its sp starts at the TOP of its "
               "stack (stack_top(slot)), which grows down")


COND_HINTS = [
    (r"refused: FAIL: got -2,",
     "cond_wait returned -E_NOSYS: the condition variables are not written yet"),
    (r"cond_wait without holding the mutex: refused: FAIL",
     "cond_wait must refuse (-E_PERM) a caller that does not hold the mutex"),
    (r"a signal sent before anyone slept woke nobody: FAIL",
     "a signal with no sleeper is not remembered: cond_signal wakes only threads "
     "blocked in cond_wait on that condition"),
    (r"one signal wakes exactly one sleeper: FAIL: got [2-9]",
     "cond_signal woke more than one sleeper: it wakes only the one that has slept "
     "longest (cond_broadcast wakes all)"),
    (r"one signal wakes exactly one sleeper: FAIL: got 0",
     "cond_signal woke nobody: it must make the longest sleeper on c runnable (and "
     "forget that it sleeps on c)"),
    (r"\(sleeper 1\): FAIL",
     "cond_signal woke the wrong sleeper: cond_wait notes when a thread began to "
     "sleep (wait_since), and cond_signal wakes the one with the SMALLEST"),
    (r"a broadcast wakes all the others: FAIL",
     "cond_broadcast must wake every thread sleeping on c"),
    (r"four sleepers asleep on the condition: FAIL",
     "a thread that went to sleep in cond_wait kept the mutex, so the next could not "
     "take it: cond_wait releases m (handing it over) before it sleeps"),
    (r"woke holding the mutex.*FAIL|held the mutex when it unlocked it: FAIL",
     "a thread returned from cond_wait without the mutex: after it wakes, cond_wait "
     "must take the mutex back (waiting in line for it) before it returns"),
    (r"every item exactly once: FAIL|never overflowed: FAIL",
     "two threads used the buffer at once: a thread woken in cond_wait must own "
     "the mutex again when cond_wait returns"),
    (r"lost wake-up",
     "a signal was lost: between releasing the mutex and sleeping, cond_wait must "
     "not be preemptible (mark the thread as sleeping on c and release m in one "
     "critical section, then block)"),
]


@test(points=25, timeout=30)
def condvars(t):
    """Condition variables (t_cond): cond_wait needs the mutex; a signal
    with no sleeper is not remembered; cond_signal wakes exactly the
    longest sleeper and cond_broadcast all; three producers and two
    consumers share a bounded buffer under preemption without losing or
    duplicating an item; and a hunt that ends a slice at each point of
    cond_wait in turn finds no lost wake-up (under -icount shift=0, where
    a slice ends at the same instruction every run)."""
    out = t.qemu(bootargs="init=t_cond", extra_args=["-icount", "shift=0"])
    t.expect(out,
             r"^one signal wakes exactly one sleeper: ok$",
             r"^the consumers got every item exactly once: ok$",
             r"^no wake-up lost in \d+ rounds of slices ending inside cond_wait: ok$",
             r"^t_cond: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    for rx, hint in COND_HINTS:
        t.hint_if(out, rx, hint)


@test(points=5, timeout=5)
def answers(t):
    """labs/threads/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
