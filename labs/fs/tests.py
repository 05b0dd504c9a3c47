# Lab fs: the file system, served by a file-system environment (user/fsd
# running ulib/fs.c) and reached over RPC: files, directories, links, big
# files, a full disk, several writers at once, and crash safety through the
# write-ahead log.
#
# The full sets (bigger files, every crash point) run only when the
# environment variable RVEXO_FULL is set to 1: `RVEXO_FULL=1 ./grade-lab fs`.

import os
import re
import shutil

from gradelib import *

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FSCK = os.path.join(ROOT, "build", "mkfs", "fsck")
IMAGE = os.path.join(ROOT, "build", "fs.img")
FULL = os.environ.get("RVEXO_FULL", "") == "1"


def fsck(t, what):
    """Run the host's fsck on this test's disk; report what it finds."""
    out = t.run(["make", "-s", "build/mkfs/fsck"], timeout=60)
    if out.returncode != 0:
        t.fail(f"cannot build fsck:\n{out}")
    out = t.run([FSCK, t.disk()], timeout=60)
    if not t.check(out.returncode == 0 and re.search(r": clean: ", out), f"fsck after {what}:"):
        t.note(str(out))
    return out.returncode == 0


@test(points=20, timeout=120)
def usertests(t):
    """The quick set of usertests: files, directories, links, unlink of open
    files, big files, many files, concurrent writers, descriptors across
    fork, pipes, a hostile client, a full disk; nothing leaks; fsck clean."""
    out = t.qemu(bootargs="init=usertests")
    t.expect(out, r"^usertests: all \d+ tests passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    fsck(t, "usertests")


@test(points=5, timeout=60)
def bad_pointers_get_an_error(t):
    """A read, write, open, unlink, mkdir, link, stat, fstat, pipe, wait,
    spawn or exec handed a bad pointer (unmapped, past the heap, read-only,
    the kernel's half) returns -E_FAULT, changes nothing, and the program
    goes on (usertests badptr)."""
    out = t.qemu(bootargs="init=usertests badptr")
    t.expect(out, r"^usertests: badptr: ok$", r"^usertests: all 1 tests passed$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"destroyed")


if FULL:
    @test(points=0, timeout=900)
    def usertests_full(t):
        """usertests -f: bigger files, more files and writers."""
        out = t.qemu(bootargs="init=usertests -f")
        t.expect(out, r"^usertests: all \d+ tests passed$")
        t.forbid(out, r"FAIL", r"panic", r"unhandled")
        fsck(t, "usertests -f")


@test(points=30, timeout=900 if FULL else 300)
def crash_recovery(t):
    """Stop the machine at the Nth disk write (kernel diskcrash=N) for N
    across a workload of creates, writes, renames, links and unlinks;
    reboot on the same disk: the log is replayed, fsck finds the file
    system consistent, and every completed operation is there (the one
    under way is there whole or not at all)."""
    step = 1 if FULL else 7
    n, runs = 1, 0
    while True:
        shutil.copyfile(IMAGE, t.disk())
        out = t.qemu(bootargs=f"init=t_crashfs run diskcrash={n}", timeout=60)
        finished = re.search(r"^t_crashfs: all \d+ ops done$", out, re.M) is not None
        if not finished and not re.search(r"^rvexo: diskcrash: stopping the machine", out, re.M):
            t.fail(f"diskcrash={n}: the workload neither finished nor was stopped:\n{out}")
        done = re.findall(r"^t_crashfs: op (\d+) done$", out, re.M)
        k = int(done[-1]) if done else 0
        check = t.qemu(bootargs=f"init=t_crashfs check {k}", timeout=60)
        ok = t.check(re.search(r"^t_crashfs: the disk holds the first \d+ ops", check, re.M),
                     f"diskcrash={n}, {k} ops completed: the disk after the reboot is wrong")
        if not ok:
            t.note(str(check))
        if not fsck(t, f"diskcrash={n} and a reboot") or not ok:
            return
        runs += 1
        if finished:
            break
        n += step
    t.check(runs >= 20, f"only {runs} crash points: the workload writes too little")


@test(points=10, timeout=60)
def first_use_by_many_finds_one_server(t):
    """The file server's first use, by many processes at once: children
    forked before their parent's first file call each create a file; every
    call succeeds and every process finds the same single server."""
    out = t.qemu(bootargs="init=t_fsfirst")
    t.expect(out, r"^t_fsfirst: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
