# Lab revoke: answering the kernel's revocation in the library. ExOS pages
# a region to and from a file, lets the program choose the replacement
# policy, gives pages back when the kernel asks, and repairs its state when
# the kernel takes them by force.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))


# What t_paging prints for the typical mistakes, and what each means: the
# clock's, in the order t_paging tries them.
CLOCK_SYMPTOMS = [
    (r"^t_paging: the clock chose no page in 100 ms",
     "With every page used, the clock swept for ever: it must clear PTE_A of each used page "
     "it passes, so that the next time round that page is a victim."),
    (r"^\.\.\. after clearing the accessed bit .*: FAIL",
     "With every page used, the clock left PTE_A set on some: it must clear each used "
     "page's bit and move the hand on to the next, all the way round if need be."),
    (r"^\.\.\. keeping their dirty bits \(PTE_D\): FAIL",
     "Clearing PTE_A dropped PTE_D: a page written to then looks clean and is evicted without "
     "being written back. Map it again with every bit it had but PTE_A."),
    (r"^the clock, every page used: it picks one of the n: FAIL",
     "The clock returned an index outside 0..n-1: the hand wraps to 0 when it reaches n."),
    (r"^every page used again but page 5: the clock picks 5: FAIL",
     "The clock took a page used since the hand last passed: a page with PTE_A set gets a "
     "second chance (bit cleared, hand moves on); the first one without it goes."),
    (r"^then every page: a full sweep .*: FAIL",
     "The sweep started from the first page again: keep the hand in a static variable so that "
     "each sweep goes on where the last one stopped."),
]
# The paged regions', the answer's and the repair's, in the order t_paging
# meets them.
ANSWER_SYMPTOMS = [
    (r"^a region over part of it is refused: FAIL",
     "region_map took a range that overlaps a region already mapped: refuse it (-E_INVAL) "
     "before taking a free slot."),
    (r"cannot write back page",
     "evict wrote a page back after giving it away: once sys_page_free has returned, the "
     "page is not yours and the disk refuses it. Unmap, write back, then free."),
    (r"^more pages than the allowance: data survives eviction and reload: FAIL",
     "A page written to came back without the stores: evict must write a dirty page "
     "(PTE_D in the PTE read BEFORE vm_unmap: afterwards there is none) to its block "
     "before freeing it."),
    (r"^\.\.\. with at most 32 resident: FAIL",
     "More region pages are resident than the allowance: region_fault makes room "
     "(evict_some(1)) when nresident has reached it, and evict_some gives exactly the n "
     "pages asked (while any are resident)."),
    (r"^the program's own policy is used: FAIL",
     "The policy installed with exos_set_policy was never asked: evict_some must call "
     "`policy` (the installed one), not exos_policy_clock."),
    (r"^the policy gave 10 region pages: FAIL",
     "Asked for 10 pages (REVOKE_PAGES, revoke_arg 10), ExOS gave a different number: "
     "evict_some(arg) evicts exactly arg pages while any are resident."),
    (r"^\.\.\. so the kernel took nothing: FAIL",
     "A request for n pages (REVOKE_PAGES) was not answered in time: evict revoke_arg pages "
     "(evict_some, which asks the policy for each victim)."),
    (r"^\.\.\. by the policy: the kernel took nothing: FAIL",
     "A request for one named page (REVOKE_PAGE) must give exactly that page: find the "
     "resident page whose ppn is revoke_arg and evict it, not one the policy picks."),
    (r"^\.\.\. written back first: it reads what was stored: FAIL",
     "A named region page was given up without its stores: give it with evict() (write "
     "back if dirty, then free, then drop its entry), not by freeing it outright."),
    (r"^\.\.\. by the answer: the kernel took nothing: FAIL",
     "A request for a time slice (REVOKE_SLICE) was left to the kernel: free slice "
     "revoke_arg (sys_slice_free)."),
    (r"^\.\.\. and leaves no page dirty: FAIL",
     "region_sync left PTE_D set on a page it wrote back: map it again with every bit but "
     "PTE_D, or evicting it writes it a second time."),
    (r"^region_sync writes back the 8 pages just written: FAIL",
     "region_sync must write_back every resident page whose PTE has PTE_D."),
    (r"^child: the 4 region pages taken by force are no longer resident: FAIL",
     "The repair kept a region page the kernel took in resident[]: repossessed(ppn) must "
     "drop the resident entry with that ppn, so the next touch reads the page in again."),
    (r"^child: \.\.\. and not lost \(their blocks hold them\): FAIL",
     "The repair counted a taken region page as lost: its block holds it (what was "
     "written back), so once its entry is dropped there is nothing more to do (return)."),
]


@test(points=30, timeout=20,
      hint="t_paging tries the exercises in the README's order: the clock on pages of its "
           "own, the regions, paging in and out, the answers, the repair. Each FAIL line "
           "names what went wrong; the first one says most.")
def revocation_policy(t):
    """The clock on pages of its own (accessed bits cleared, dirty bits kept,
    a hand kept between sweeps); a paged region over a file (overlaps
    refused), written back when evicted, within its allowance, clock and MRU
    policies; revocation answered by the policy (n pages, a named page
    written back first, a slice); a child ignoring revocation loses pages
    (not its parent); a child survives repossession and is stopped when it
    touches a lost page; region_sync; a child whose region pages are taken
    by force reads them in again, none lost."""
    out = t.qemu(bootargs="init=t_paging", extra_args=["-icount", "shift=0"])  # deadlines in instructions
    t.expect(out, r"^t_paging: all \d+ checks passed$",
             r"^rvexo: env [0-9a-f]+ \(t_paging\) did not answer a revocation; took 40$",
             r"^t_paging: the kernel took \d+ pages whose contents are lost$",
             r"^child: survived repossession with \d+ pages lost, 0 region pages resident$",
             r"^t_paging: page 0x[0-9a-f]+ was taken by the kernel \(revocation\); "
             r"its contents are lost$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    # The checks build on each other: the first to fail says most.
    seen = [(m.start(), hint) for rx, hint in CLOCK_SYMPTOMS + ANSWER_SYMPTOMS
            for m in [re.search(rx, out, re.M)] if m]
    if seen:
        t.hint(min(seen)[1])


# Why a boot running pagedemo is not recorded for make replay (gradelib).
PAGEDEMO_NORECORD = ("pagedemo gives each scan 200 ms of virtual time, and QEMU's record mode "
                     "moves the virtual clock on while the disk works: the deadline would pass")


@test(points=10, timeout=15,
      hint="The default clock must miss on every page of a cyclic scan bigger than its "
           "allowance (512 pages read in 4 scans of 128 in 32), as a clock does: see "
           "revocation_policy's checks of exos_policy_clock.")
def own_policy_faster(t):
    """The demo: a cyclic scan bigger than its allowance takes fewer
    instructions (under -icount) with the program's own MRU policy."""
    out = t.qemu(bootargs="init=pagedemo", extra_args=ONE_HART + ["-icount", "shift=0"],
                 norecord=PAGEDEMO_NORECORD)  # (one hart: rdinstret counts every hart's)
    t.expect(out, r"^pagedemo: 4 scans of 128 pages in 32: default clock: 512 pages read, \d+ ",
             r"^pagedemo: 4 scans of 128 pages in 32: own MRU policy: 388 pages read, \d+ ",
             r"^pagedemo: the program's own policy took \d+% of the default's instructions$")
    m = re.search(r"took (\d+)% of the default", out)
    if m and int(m.group(1)) >= 100:
        t.fail(f"the own policy was not faster ({m.group(1)}%)")
    t.hint_if(out, r"did not end in \d+ ms",
              "pagedemo's scan with the default clock did not end: a clock that never clears "
              "PTE_A sweeps for ever once every resident page has been used.")
    t.hint_if(out, r"cannot map /pagefile",
              "region_map refused pagedemo's region: a 128-page range below EXOS_SCRATCH "
              "that overlaps no region must be taken.")


PROMPT = r"(^|\n)\$ $"


@test(points=10, timeout=20)
def paging_from_the_shell(t):
    """pagedemo and t_paging work from the shell, where they hold no disk
    binding of their own: the file server binds them /pagefile's blocks.
    (Here, not in lab shell: both run this lab's code to the end.)"""
    commands = ("t_paging", "echo test $?", "pagedemo", "echo demo $?", "echo end-of-session")
    # Under -icount: t_paging's deadlines are in instructions; on one hart:
    # pagedemo compares two policies' instruction counts (rdinstret counts
    # every hart's under -icount).
    out = t.qemu(send=[(PROMPT, c + "\n") for c in commands], stop=r"^end-of-session$",
                 extra_args=ONE_HART + ["-icount", "shift=0"], norecord=PAGEDEMO_NORECORD)
    t.expect(out, r"^pagedemo: 4 scans of 128 pages in 32: own MRU policy: 388 pages read, \d+ ",
             r"^demo 0$", r"^t_paging: all \d+ checks passed$", r"^test 0$")
    t.forbid(out, r"FAIL", r"cannot map", r"panic", r"unhandled")


@test(points=10, timeout=20)
def file_cache_given_back_on_revocation(t):
    """Memory given back: after a 4 MiB file workload the file server,
    asked through the kernel's visible revocation, gives back at once the
    pages its block cache took, and a program then allocates as many pages
    as before the workload; pages the kernel takes by force from the cache
    are forgotten, not lost, and the file system still works. (Under
    -icount: a busy host must not make the server miss its deadline.)"""
    out = t.qemu(bootargs="init=t_memback", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_memback: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"contents are lost")
    t.hint_if(out, r"^(the pages a program can allocate|\.\.\. it gave them back)[^\n]*: FAIL",
              "answer(): a request for n pages that the paged regions cannot meet "
              "(evict_some gives fewer) passes the rest to the reclaimer (reclaimer->give), "
              "which is how the file server's cache gives its pages back.")
    t.hint_if(out, r"contents are lost",
              "repossessed(): a taken page that is not a region page may be the reclaimer's "
              "(the file server's cached block): ask reclaimer->taken(ppn) before counting "
              "it lost, or the cache goes on using a page it no longer has.")


@test(points=5, timeout=5)
def answers(t):
    """labs/revoke/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
