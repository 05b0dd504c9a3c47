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
FSCK_SHOWN = 8  # fsck's lines shown under a failing test (all are in its log)


def fsck(t, what):
    """Run the host's fsck on this test's disk; report what it finds."""
    out = t.run(["make", "-s", "build/mkfs/fsck"], timeout=60)
    if out.returncode != 0:
        t.fail(f"cannot build fsck:\n{out}")
    out = t.run([FSCK, t.disk()])
    if not t.check(out.returncode == 0 and re.search(r": clean: ", out), f"fsck after {what}:"):
        lines = str(out).replace(t.disk() + ": ", "").rstrip().splitlines()
        more = len(lines) - FSCK_SHOWN
        t.note("\n".join(lines[:FSCK_SHOWN] + [f"({more} lines more in the log)"] * (more > 0)))
    return out.returncode == 0


# The lines of a file-system run that explain it: the test programs' and
# the server's own, and the kernel's reports of a program destroyed.
EXPLAINING = re.compile(r"^(t_crashfs|fsd|usertests): .*|^.*(destroyed|panic|assert|unhandled).*$",
                        re.M)


def explaining(out):
    """The lines of out that explain what happened (EXPLAINING), indented
    under a note; the whole console stays in the test's log."""
    lines = [m.group(0) for m in EXPLAINING.finditer(out)]
    return "\n".join("  " + line for line in lines) or "  (the machine said nothing about it)"


@test(points=20, timeout=30)
def usertests(t):
    """The quick set of usertests: files, directories, links, unlink of open
    files, big files, many files, concurrent writers, descriptors across
    fork, pipes, a hostile client, a full disk; nothing leaks; fsck clean."""
    out = t.qemu(bootargs="init=usertests")
    t.expect(out, r"^usertests: all \d+ tests passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    fsck(t, "usertests")


if FULL:
    @test(points=0, timeout=900)
    def usertests_full(t):
        """usertests -f: bigger files, more files and writers."""
        out = t.qemu(bootargs="init=usertests -f")
        t.expect(out, r"^usertests: all \d+ tests passed$")
        t.forbid(out, r"FAIL", r"panic", r"unhandled")
        fsck(t, "usertests -f")


@test(points=30, timeout=60 if FULL else 20)
def crash_recovery(t):
    """Stop the machine at the Nth disk write (kernel diskcrash=N) for N
    across a workload of creates, writes, renames, links and unlinks;
    reboot on the same disk: the log is replayed, fsck finds the file
    system consistent, and every completed operation is there (the one
    under way is there whole or not at all). After the workload finishes
    without a crash, the log holds nothing to replay."""
    step = 1 if FULL else 7
    n, runs = 1, 0
    while True:
        shutil.copyfile(IMAGE, t.disk())
        out = t.qemu(bootargs=f"init=t_crashfs run diskcrash={n}")
        finished = re.search(r"^t_crashfs: all \d+ ops done$", out, re.M) is not None
        if not finished and not re.search(r"^rvexo: diskcrash: stopping the machine", out, re.M):
            t.fail(f"diskcrash={n}: the workload neither finished nor was stopped "
                   f"(the whole console is in the log):\n{explaining(out)}")
        done = re.findall(r"^t_crashfs: op (\d+) done$", out, re.M)
        k = int(done[-1]) if done else 0
        check = t.qemu(bootargs=f"init=t_crashfs check {k}")
        ok = t.check(re.search(r"^t_crashfs: the disk holds the first \d+ ops", check, re.M),
                     f"diskcrash={n}, {k} ops completed: the disk after the reboot is wrong "
                     f"(the reboot's whole console is in the log):\n{explaining(check)}")
        if not fsck(t, f"diskcrash={n} and a reboot") or not ok:
            return
        runs += 1
        if finished:
            replayed = re.search(r"^fsd: replayed .*", check, re.M)
            t.check(not replayed, "the workload finished without a crash, yet the reboot found a "
                    f"committed transaction in the log ({replayed and replayed.group(0)})")
            break
        n += step
    t.check(runs >= 20, f"only {runs} crash points: the workload writes too little")
