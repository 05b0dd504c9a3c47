# Lab fork: processes in ExOS. fork() builds the child's address space with
# copy-on-write entirely in the library; exit status, wait and kill too;
# spawn and exec load programs from the file system.

import os

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))
FORK_TARGET = 190000    # instructions; the reference takes 184,468


# The symptoms of the typical mistakes in the lab's code (LAB fork), and
# what to tell the student who shows one. Every test's output is searched
# for them.
HINTS = [
    (r"wait returns the child: FAIL: got (0|-1),",
     "parent and child ran on one stack: the parent's stores reached the child. In "
     "share_page a writable page must become PTE_COW in the child AND in the parent (with "
     "vm_map), and the parent's mapping only after the child's (question 2); never grant a "
     "writable page with GRANT_W"),
    (r"(exit 7\): FAIL: got [01],|never saw the parent's store.*FAIL)",
     "one process saw another's stores: either a page still shared was made writable in "
     "place (cow_fault: in place only when this process owns the page AND its mapcount is "
     "1), or share_page left the parent's own mapping writable"),
    (r"writes it in place \(no copy\): FAIL",
     "a page this process owns and alone maps (mapcount 1) was copied: make it writable "
     "in place (vm_map with PTE_W) instead of copying it"),
    (r"no longer PTE_COW: FAIL",
     "a page made writable still carries PTE_COW: map it with PTE_W and without PTE_COW"),
    (r"text and constants are read-only, not PTE_COW: FAIL: got 2[12],",
     "a read-only page (text, constants) was shared copy-on-write: only a page that was "
     "writable (or already PTE_COW) becomes PTE_COW; a read-only one is granted and mapped "
     "read-only, so a store to it still ends the program"),
    (r"unhandled store page fault",
     "a store to a copy-on-write page went unhandled: the kernel refuses to map writable a "
     "page this process does not own (its parent's), so copy such a page even when it has "
     "one mapping left; and return 1 once the page is writable"),
    (r"was taken by the kernel",
     "a page a process still mapped was freed under it: after a copy the original may "
     "still be mapped by others; give it to add_orphan, which frees it once nobody maps it"),
    (r"(freed once nobody maps it|no page leaked|every page came back).*FAIL",
     "pages leak: after a copy, the original this process owns must go to add_orphan "
     "(whoever still maps it, and however many), and reap_orphans must free those nobody "
     "maps any more"),
    (r"backtrace:\n(  #\d.*\n)*  #\d+ 0x[0-9a-f]+ copy_page\+",
     "a fault inside copy_page: copy the page from its start (va is rounded down), not from "
     "the faulting address"),
    (r"unhandled load page fault.*\nbacktrace:\n  #0 0x[0-9a-f]+ vm_for_each_leaf\+",
     "fork's walk faulted on a page that lost its contents: copy_page must copy the page "
     "into the new one (mapped at EXOS_SCRATCH) BEFORE it maps the new page at va"),
    (r"no exception handler: store page fault at pc 0x[0-9a-f]+, address 0x0*3f7f",
     "the child died at its first instruction, storing to its exception stack: fork must "
     "give it a fresh, zeroed one of its own (EXOS_XSTACK_LO to EXOS_XSTACK_TOP, with "
     "child_private_page), since ExOS's own pages are not shared"),
    (r"frees the old program's 1 MiB heap; failed execs return: FAIL: got 6,",
     "exec did not free the old program's pages: plan_removal must add to the free list "
     "every page this process owns and alone maps (not the trampoline's)"),
    (r"exec frees no page a forked child still maps: FAIL",
     "exec freed a page a forked child still maps: plan_removal frees a page only if this "
     "process owns it AND its mapcount is 1"),
    (r"frees the old program's 1 MiB heap; failed execs return: FAIL: got -1,",
     "the program exec started died at start-up: load_for_exec must map every page of each "
     "PT_LOAD segment up to its size in memory (memsz: bss too), filled by fill_page and "
     "mapped with segment_bits"),
]

# When a test runs out of time: the usual cause.
STUCK = ("the machine hung: often a fault inside the fault handler, which faults again. "
         "ExOS's state (exos_state_start to exos_state_end) must never be PTE_COW: give the "
         "child private copies of its pages at once (question 1); and a program after exec must not "
         "lose the pages a forked child still maps")


def _hints(t, out):
    """Give the hints whose symptoms out shows."""
    for rx, hint in HINTS:
        t.hint_if(out, rx, hint)
    if out.timed_out:
        t.hint(STUCK)


@test(points=30, timeout=10)
def fork_cow(t):
    """Private copies, one copy per page, exit statuses, a tree four deep,
    kill, 100 fork/exit/wait cycles that leak no page, and shared memory
    passed on to a grandchild (and withdrawn from it)."""
    out = t.qemu(bootargs="init=t_fork")
    t.expect(out, r"^t_fork: all \d+ checks passed$",
             r"^no page leaked by 100 fork/exit/wait cycles: ok$",
             r"^t_fork: unhandled load page fault at pc 0x[0-9a-f]+, address 0x2600000000$",
             r"^rvexo: no environments left; powering off$")
    # The one unhandled fault expected: the grandchild whose grant went away.
    t.forbid(out, r"FAIL", r"panic", r"unhandled (?!load page fault at pc 0x[0-9a-f]+, "
             r"address 0x2600000000$)")
    _hints(t, out)


@test(points=20, timeout=10)
def spawn_exec(t):
    """spawn(path, argv) from the file system: arguments, data and bss, exit
    status through wait, kill, errors by name, 20 spawns that leak no page;
    exec keeps the pid, frees the old program, returns on failure."""
    out = t.qemu(bootargs="init=t_spawn")
    t.expect(out, r"^t_spawn: all \d+ checks passed$",
             r"^hello from echo$",
             r"^20 spawn/wait leave the free count as it was: ok$",
             r"^exec keeps the pid, frees the old program's 1 MiB heap; failed execs return: ok$",
             r"^echo after exec$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    _hints(t, out)


@test(points=20, timeout=30)
def orphans_keep_memory(t):
    """A forked child whose parent exits keeps running with all its memory,
    before and after it calls exec; 400 such orphans give back every page
    and environment slot."""
    out = t.qemu(bootargs="init=t_orphan")
    t.expect(out, r"^400 orphaned grandchildren ran to their end$",
             r"^t_orphan: all \d+ checks passed$",
             r"^orphan after exec$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"destroyed")
    _hints(t, out)


@test(points=5, timeout=30, parent=fork_cow,
      hint="a fork costs a few system calls per page: share a page with one grant and two "
           "page-table writes, and copy only what must be copied (ExOS's state)")
def fast_fork(t):
    """fork, exit and wait of a child that exits at once take at most
    190,000 instructions under -icount (the reference: 184,468)."""
    t.instructions("fork-exit-wait", FORK_TARGET, 184468)


@test(points=5, timeout=5)
def answers(t):
    """labs/fork/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
