# Lab bindings: the secure binding for memory. The library OS writes its
# own page-table entries; the kernel checks each write against the rules
# at the top of kernel/pte.c, keeps the reverse map that lets it break
# mappings, and does the common write in a few instructions.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))
PTE_WRITE_TARGET = 150        # instructions; the reference takes 137
PTE_BATCH_TARGET = 45         # instructions per entry; the reference takes 36


def t_bind(t, group):
    """Boot t_bind GROUP; expect all its checks passed; return the output."""
    out = t.qemu(bootargs=f"init=t_bind {group}", fatal=r"^panic|kernel trap")
    t.expect(out, r"^t_bind: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"kernel trap")
    return out


@test(points=15, timeout=20,
      hint="read the rules at the top of kernel/pte.c; the reverse map's count is mapcount")
def proper_use(t):
    """Writes used properly work: mapping, fewer and more rights, the RSW
    bits, a child's tables, linking and unlinking tables, batches of new
    mappings, rewrites and clears; every mapping counted; kcheck OK."""
    out = t_bind(t, "use")
    t.hint_if(out, r"mapping count is 1: FAIL: got 0|all counted: FAIL",
              "a mapping is not counted: rmap_add must add the slot to the page's list "
              "and count it in mapcount")
    t.hint_if(out, r"use.*refused|: FAIL: got -\d+, want 0",
              "a proper write was refused: a rule is checked too strictly")


@test(points=40, timeout=30,
      hint="each attack breaks exactly one rule; the error must name that rule")
def attacks(t):
    """54 hostile writes, each breaking one rule (U/G/W bits, reserved bits,
    levels, indices, pages not RAM or not ours, grants and their rights,
    writable tables, tables not ours, links of every kind, rewrites of a
    mapped leaf), each refused with its rule's error alone, alone in a
    batch, after a common write in a batch and before one (then not made),
    the entry unchanged; kcheck after each; a child cannot write its
    parent's tables."""
    out = t_bind(t, "attacks")
    t.expect(out, r"^t_bind: 54 attacks refused$")
    t.hint_if(out, r"a rewrite[^\n]*: refused: FAIL",
              "a rewrite of a mapped leaf got through: the common write (rewrite_leaf) must "
              "check every bit it lets through, or hand the write to the general path")
    t.hint_if(out, r"in a batch[^\n]*: FAIL",
              "a batch must stop at the first write that fails and return its error; "
              "the writes before it stay made, those after it are not made")
    t.hint_if(out, r"granted R, as R[WX][^\n]*: FAIL",
              "a page held through a grant may be mapped with no more rights than granted")
    t.hint_if(out, r"linked a second time: refused: FAIL",
              "a table already linked somewhere may not be linked again (E_LINKED)")
    t.hint_if(out, r"index (512|-1|256|511)[^\n]*: FAIL|root index[^\n]*: FAIL",
              "indices run 0..511, and only 0..255 in a root (its upper half is the kernel's)")
    t.hint_if(out, r"(superpage|gigapage)\): refused: FAIL",
              "leaves live in level-0 tables only (no superpages)")


@test(points=20, timeout=20, hint="rmap_add, rmap_remove and relink keep the reverse map")
def reverse_map(t):
    """The reverse map: counts follow adds, removes and rewrites to another
    page; withdrawing a grant and freeing a page break every mapping of it;
    destroying an environment frees its pages; nothing leaks; kcheck OK."""
    out = t_bind(t, "rmap")
    t.hint_if(out, r"kcheck: FAIL: reverse map",
              "the page's list and its mapcount disagree: unlink from both ends of the list")
    t.hint_if(out, r"broke every mapping: FAIL|broke our mapping[^\n]*: FAIL",
              "the kernel breaks mappings by walking the page's list: a slot missing from "
              "it keeps its mapping after the page is gone")


@test(points=10, timeout=30, parent=attacks,
      hint="the common write (rewrite_leaf) must not take the general path")
def fast_write(t):
    """One pte_write rewriting a leaf of one's own takes at most 150
    instructions under -icount (the reference: 137)."""
    t.instructions("pte-write", PTE_WRITE_TARGET, 137)


@test(points=10, timeout=30, parent=attacks,
      hint="a batch should check a run of writes into one table once, and flush once")
def fast_batch(t):
    """A batch of 64 rewrites takes at most 45 instructions an entry (the
    reference: 36)."""
    t.instructions("pte-write-batch", PTE_BATCH_TARGET, 36)


@test(points=5, timeout=5)
def answers(t):
    """labs/bindings/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
