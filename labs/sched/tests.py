# Lab sched: scheduling policy in the library. The kernel offers time-slice
# ownership and directed yield; ExOS builds a stride scheduler on them
# (ulib/stride.c): the client table, tickets that change while it runs, and
# the loop that owns the slices and hands each one out.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))

DIRECTED_YIELD_TARGET = 110  # instructions per switch; the reference takes 104
_runs = {}  # stride's output, run once for both tests that read it


def _stride(t):
    """Boot `stride 250` under -icount shift=0 (a slice is then a count of
    instructions: a busy host that stops QEMU now and then must not take a
    child's slice away) on one hart, once; return its output. (The lab's
    scheduler hands out one hart's slices: with more, its clients, which
    own none, would run in the other harts' free time as well.)"""
    if "stride" not in _runs:
        _runs["stride"] = t.qemu(bootargs="init=stride 250",
                                 extra_args=ONE_HART + ["-icount", "shift=0"])
    return _runs["stride"]


def _shares(out, phase):
    """The share of the time each child ran in a phase: [(tickets, pct), ...]."""
    return [(int(tickets), float(pct)) for tickets, pct in
            re.findall(rf"^stride: phase {phase}: child \d with (\d+) tickets ran ([\d.]+)% of the time",
                       out, re.M)]


def _hint_first(t, shares):
    """Name the mistake that the children's shares in phase 1 (3:2:1) point to."""
    if len(shares) != 3:
        return
    pct = {tickets: p for tickets, p in shares}
    if pct[1] >= 90:
        t.hint("the child with the fewest tickets got every slice: choose the LEAST pass")
    elif pct[3] >= 90:
        t.hint("the child with the most tickets got every slice: only the chosen client's "
               "pass advances, by its stride (pass += stride, not by its tickets, not set "
               "to it), and the choice is by least pass")
    elif min(pct.values()) < 1:
        t.hint("a child never ran: does the search for the least pass look at every client?")
    elif max(pct.values()) - min(pct.values()) < 10:
        t.hint("every child got about the same share: the pass is ignored, or advanced by "
               "the same amount for every client")


def _hint_second(t, shares, third):
    """Name the mistake that the shares in phase 2 (1:2:3, and a newcomer
    with 2) or phase 3 (child 2 removed) point to."""
    if len(third) == 4 and third[1][1] > 1:
        t.hint("the child removed in phase 3 still got slices: stride_remove must take "
               "it out of the table (and keep every other client in it)")
    elif len(third) == 4:
        t.hint("after stride_remove the others' shares are wrong: removing one client must "
               "leave every other client in the table exactly once")
    if len(shares) != 4:
        return
    (_, one), (_, two), (_, three), (_, newcomer) = shares
    if newcomer > 35:
        t.hint("the child that joined in phase 2 got far more than its share: a newcomer "
               "must join at the current front (the least pass, plus its stride), not at "
               "pass 0 or its bare stride")
    elif one > three:
        t.hint("the shares still follow the old tickets: stride_set_tickets must change "
               "the client's stride too (STRIDE1 / tickets), not only its tickets")
    elif three > 45 or one < 9:
        t.hint("after the change the child with the new small stride took far more than "
               "its share: stride_set_tickets must keep the client's distance from the "
               "front (the least pass), scaled by new stride / old stride, not reset its "
               "pass")


@test(points=20, timeout=30)
def stride_3_2_1(t):
    """Three CPU-bound children with tickets 3:2:1 get CPU within 10% of 3:2:1
    over 250 ms (250 slices: stride scheduling is exact to a slice or so)."""
    out = _stride(t)
    t.expect(out,
             r"^stride: phase 1: child 1 with 3 tickets ran [\d.]+% of the time",
             r"^stride: phase 1: shares match their tickets within 10%$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"phase 1: shares DO NOT match", r"panic", r"unhandled")
    t.hint_if(out, r"stride_run: no such system call|cannot start child",
              "stride_add, stride_set_tickets and stride_run in ulib/stride.c are not written")
    _hint_first(t, _shares(out, 1))


@test(points=15, timeout=30, parent=stride_3_2_1)
def tickets_change(t):
    """Then children 1 and 3 change to 1 and 3 tickets (child 2 keeps 2),
    and a fourth child joins with 2: over the next 250 slices the four get
    within 10% of 1:2:3:2 (a changed client or a newcomer that starts at
    the wrong pass takes far more). Then child 2 leaves the scheduler: it
    gets nothing more, and the others 1:3:2."""
    out = _stride(t)
    t.expect(out,
             r"^stride: phase 2: child 4 with 2 tickets ran [\d.]+% of the time",
             r"^stride: phase 2: shares match their tickets within 10%$",
             r"^stride: phase 3: shares match their tickets within 10%$",
             r"^stride: every phase follows its tickets$")
    t.forbid(out, r"DO NOT match", r"refused", r"panic", r"unhandled")
    third = _shares(out, 3)
    _hint_second(t, _shares(out, 2), third if re.search(r"phase 3: shares DO NOT", out) else [])


@test(points=5, timeout=30, parent=stride_3_2_1,
      hint="a directed yield is one system call: the kernel switches straight to the target")
def directed_yield(t):
    """A directed yield to a partner that yields straight back takes at most
    110 instructions a switch under -icount (the reference: 104): the
    mechanism stride_run hands each slice out with."""
    t.instructions("directed-yield", DIRECTED_YIELD_TARGET, 104)


@test(points=5, timeout=5)
def answers(t):
    """labs/sched/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
