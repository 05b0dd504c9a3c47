# Lab smp: the kernel lock and TLB shootdowns. With several harts up, one
# lock keeps the kernel's code on one hart at a time (kernel/smp.c
# kernel_lock_smp, kernel_unlock_smp); and a translation of a mapping one
# hart breaks may live on in the TLB of another hart that runs the
# environment, so the kernel makes sure none is used once the call that
# broke the mapping has returned (kernel/smp.h tlb_note_remote,
# kernel/smp.c shoot_down and user_left, kernel/trap.c trap_return).
# user/t_smp shootdowns races a reader on another hart against a parent
# that moves the reader's window between two pages, 300 rounds, and counts
# every read of the page the window left; the fuzzer's calls from four
# harts at once test the lock's exclusion, and smpbench under -icount its
# cost when harts contend. The machines run without -icount but for
# smpbench: real parallelism is the point. (The rest of the kernel's work
# on several harts is tested by labs/harts.)

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))

NEVER_STALE = r"\.\.\. and never read a page after its mapping was replaced: ok"


def _shootdowns(t, harts):
    """Boot `t_smp shootdowns` on `harts` harts; the output, which must say
    every check passed."""
    out = t.qemu(bootargs="init=t_smp shootdowns", extra_args=["-smp", str(harts)])
    t.hint_if(out, r"never read a page after its mapping was replaced: FAIL: got [1-9]",
              "a hart used a translation of the replaced mapping after the call returned: "
              "is the hart running the reader in user mode interrupted and waited for "
              "(shoot_down), and does every hart fence a stale ASID before it returns to "
              "user mode (trap_return)?")
    t.hint_if(out, r"shootdown: hart \d still in user mode",
              "shoot_down returned before the hart it interrupted had left user mode: wait "
              "until hart_in_user says so")
    if out.timed_out or re.search(r"checked every round: FAIL", out):
        t.hint("the reader stopped answering, or the machine stopped: does user_left wake "
               "the harts waiting in shoot_down?")
    t.expect(out, r"^t_smp: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out


@test(points=25, timeout=60)
def shootdowns_two_harts(t):
    """On two harts, 300 rounds each: a reader spinning in user mode on the
    other hart, then one making a system call between reads (so mostly in
    the kernel when its mapping changes), never reads the page its window
    left once the call that moved the window has returned."""
    out = _shootdowns(t, 2)
    t.expect(out, NEVER_STALE, NEVER_STALE)


@test(points=25, timeout=60)
def shootdowns_four_harts(t):
    """The same on four harts, where the reader may move from hart to hart
    between rounds."""
    out = _shootdowns(t, 4)
    t.expect(out, NEVER_STALE, NEVER_STALE)


@test(points=15, timeout=60)
def only_the_hart_running_it(t):
    """On four harts: a round interrupts at most the one hart running the
    reader (sysinfo.shootdown_harts), and remapping a child that runs
    nowhere, 100 times, interrupts no hart and makes no shootdown (every
    hart fences lazily before it runs the child)."""
    out = _shootdowns(t, 4)
    t.hint_if(out, r"interrupting (at most one hart a round|no hart): FAIL",
              "only the hart running the environment in user mode now is interrupted; the "
              "others fence its ASID lazily, in trap_return")
    t.expect(out, r"^\.\.\. interrupting at most one hart a round: ok$",
             r"^\.\.\. interrupting no hart: ok$", r"^\.\.\. in no shootdown: ok$")


@test(points=10, timeout=60)
def lock_is_fair(t):
    """`t_smp lock` on two harts under -icount shift=0 (QEMU runs the harts
    in turn, and every count is the same each run): this program makes
    system calls for 50 ms of machine time while a child owning hart 1's
    slices makes them too, and the child gets the lock at least a quarter
    as often: a waiter that has waited LOCK_PATIENCE_US claims the next
    turn (claim_turn_if_patient), else the hart that releases the lock
    takes it back before the one it woke has run, every time."""
    out = t.qemu(bootargs="init=t_smp lock", norecord="a machine of two harts",
                 extra_args=["-smp", "2", "-icount", "shift=0"])
    if re.search(r"^fair_lock: \d+ calls here, 0 on hart 1$", out, re.M):
        t.hint("hart 1 never got the lock: a hart that has slept for it LOCK_PATIENCE_US must "
               "claim the next turn (claim_turn_if_patient, each time round the loop before it "
               "sleeps)")
    t.expect(out, r"^t_smp: all \d+ checks passed$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")


@test(points=10, timeout=120)
def lock_holds_four_harts(t):
    """The fuzzer (user/fuzz.c, seed 1, 100,000 calls) from environments
    on four harts at once: the kernel runs on one hart at a time (a hart
    that takes the lock another holds, or releases one it does not hold,
    panics), and every kcheck holds."""
    out = t.qemu(bootargs="init=fuzz seed=1 calls=100000", extra_args=["-smp", "4"])
    t.hint_if(out, r"releases the kernel lock it does not hold",
              "two harts held the lock at once: take it with one atomic step "
              "(__atomic_compare_exchange_n), not a look and then a store")
    t.expect(out, r"^fuzz: seed 1: \d+ calls \(.*\), \d+ kchecks: OK$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"panic", r"kernel trap", r"fuzz: FAIL")


LOCK_CONTENTION_LIMIT = 600000  # instructions a fork-exit-wait; the reference: 260,000..270,000


@test(points=10, timeout=60)
def lock_contention(t):
    """smpbench quick (make bench's scaling rows) on four harts under
    -icount shift=0,sleep=off, where QEMU runs the harts in turn and every
    count is the same each run: 1, 2 and 4 processes making fork-exit-waits
    at once, each row under LOCK_CONTENTION_LIMIT instructions an operation
    (every hart's): a hart that waits for the lock sleeps in wfi, so the
    holder gets to run."""
    out, rows = smpbench_quick(t)
    t.forbid(out, r"panic", r"kernel trap", r"FAIL")
    if out.timed_out or any(per_op > LOCK_CONTENTION_LIMIT for _, per_op in rows):
        t.hint("a hart waiting for the lock must sleep (wfi) after LOCK_SPINS looks: under -icount "
               "QEMU lets a spinning hart run to the end of its turn while the holder stands still")
    t.expect(out, r"^smpbench: done$")
    for n, per_op in rows:
        t.check(per_op <= LOCK_CONTENTION_LIMIT,
                f"{n} processes: {per_op:,} instructions a fork-exit-wait, over "
                f"{LOCK_CONTENTION_LIMIT:,}")


@test(points=5, timeout=5)
def answers(t):
    """labs/smp/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
