# Lab sched: scheduling policy in the library. The kernel offers time-slice
# ownership and directed yield; ExOS builds a stride scheduler on them, and
# preemptive threads on the prologue and epilogue upcalls (the `threads`
# test grades the code marked `LAB threads`, which comes right after sched
# in LAB_ORDER).

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))


def _shares(out):
    """The share of the time each child ran, by its tickets: {3: 50.1, ...}."""
    return {int(tickets): float(pct) for tickets, pct in
            re.findall(r"^stride: child with (\d+) tickets ran ([\d.]+)% of the time", out, re.M)}


def _hint_shares(t, shares):
    """Name the mistake that the children's shares point to."""
    if len(shares) != 3:
        return
    if shares[1] >= 90:
        t.hint("the child with the fewest tickets got every slice: choose the LEAST pass")
    elif shares[3] >= 90:
        t.hint("the child with the most tickets got every slice: only the chosen client's "
               "pass advances, by its stride (pass += stride, not by its tickets, not set "
               "to it), and the choice is by least pass")
    elif min(shares.values()) < 1:
        t.hint("a child never ran: does the search for the least pass look at every client?")
    elif max(shares.values()) - min(shares.values()) < 10:
        t.hint("every child got about the same share: the pass is ignored, or advanced by "
               "the same amount for every client")


@test(points=20, timeout=10)
def stride_3_2_1(t):
    """Three CPU-bound children with tickets 3:2:1 get CPU within 10% of 3:2:1
    over 250 ms (250 slices: stride scheduling is exact to a slice or so).
    Under -icount shift=0 a slice is a count of instructions: a busy host
    that stops QEMU now and then must not take a child's slice away."""
    out = t.qemu(bootargs="init=stride 250", extra_args=["-icount", "shift=0"])
    t.expect(out,
             r"^stride: child with 3 tickets ran [\d.]+% of the time",
             r"^stride: shares match 3:2:1 within 10%$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"DO NOT match", r"panic", r"unhandled")
    _hint_shares(t, _shares(out))


@test(points=5, timeout=5)
def answers(t):
    """labs/sched/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
