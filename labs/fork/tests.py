# Lab fork: processes in ExOS. fork() builds the child's address space with
# copy-on-write entirely in the library; exit status, wait and kill too;
# spawn and exec load programs from the file system.

from gradelib import *


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


@test(points=20, timeout=30)
def orphans_keep_memory(t):
    """A forked child whose parent exits keeps running with all its memory,
    before and after it calls exec; 1,000 such orphans give back every page
    and environment slot."""
    out = t.qemu(bootargs="init=t_orphan")
    t.expect(out, r"^1000 orphaned grandchildren ran to their end$",
             r"^t_orphan: all \d+ checks passed$",
             r"^orphan after exec$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"destroyed")
