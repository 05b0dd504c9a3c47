#!/usr/bin/env python3
"""demo.py: the lecture demos from the host (`make demo`, README.md "Demos").

    python3 labs/demo.py -- QEMU-COMMAND...
        List the demos (user/demo.c's table: the only list).
    python3 labs/demo.py NAME [N] -- QEMU-COMMAND...
        Run demo NAME: boot the QEMU command (the Makefile's, under -icount
        shift=0) with init=demo NAME, showing the console; the exit status
        is 0 if the demo ended well. N: the crash demo's disk write (make demo
        NAME=crash N=200), the fuzz demo's seed.
    python3 labs/demo.py --pace S NAME -- python3 labs/view.py ... -- QEMU-COMMAND...
        The same at the view pace (make demo NAME=x VIEW=1 [HOLD=S]): the
        command is QEMU under the live view, and the demo boots with
        init=demo -vS NAME, holding each state worth seeing for S seconds
        of machine time (user/demo.h). The host-only demos are not viewed.
        A hold sleeps, and a machine with nothing else to run then idles,
        its clock at the host's pace even under -icount shift=0. The demos
        whose machine stays busy while they hold (BUSY: children that spin)
        run there under -icount shift=auto instead, where the clock follows
        the host's (a busy machine's 2 s took 16 s of the host's under
        shift=0, 1.8 s under auto); their figures are not instruction
        counts, which rdinstret does not give under shift=auto.

Most demos are a program in the machine (user/demo.c starts it) and run
from the shell too. Three need the host:
  crash  two boots on one scratch copy of the disk: the first runs
         t_crashfs's workload with diskcrash=N (the kernel stops the machine
         at disk write N + 1, as a power failure would), the second reboots
         on that disk and checks the tree against the operations completed
         (t_crashfs check K); then the host's fsck checks the image.
  ash    the network round trip answered by a handler in the kernel (ASH)
         and by the owner process, with 0 to 8 busy processes beside it:
         exobench's udp-roundtrip rows, with labs/bench.py's Peer at the
         other end of the wire (127.0.0.1 only).
  fuzz   the system-call fuzzer (user/fuzz.c) as the first program (it must
         control every other environment): FUZZ_CALLS calls, kcheck OK.
Their logic is in crash() and ash() below, which take a boot function, so
that labs/demo/tests.py runs the same code under the grader's machines.
Only the Python standard library is used.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench  # noqa: E402  (labs/bench.py: Peer, parse, chart)

DEMO_C = os.path.join(ROOT, "user", "demo.c")
FSCK = os.path.join(ROOT, "build", "mkfs", "fsck")
ENTRY = re.compile(r'^\s*\{"(?P<name>\w+)",\s*(?:NULL|"(?P<prog>\w+)"),\s*(?:NULL|"[^"]*"),\s*'
                   r'"(?P<title>[^"]*)"', re.M)
CRASH_AT = 60  # the disk write the crash demo stops the machine at (+ 1)
FUZZ_CALLS = 100000  # the fuzz demo's system calls
ASH_PROCS = [0, 1, 2, 4, 8]  # busy processes beside the round trip
TIMEOUT = 300  # seconds a boot may take
BUSY = {"revoke", "stride"}  # busy while they hold: -icount shift=auto under the view


def demos():
    """The demos of user/demo.c's table: [(name, in_machine, title)]."""
    with open(DEMO_C) as f:
        return [(m["name"], m["prog"] is not None, m["title"]) for m in ENTRY.finditer(f.read())]


def listing():
    """make demo's list of the demos, as text."""
    lines = ["the demos: make demo NAME=x runs one (under -icount shift=0: exact counts);",
             "from the shell, demo x (those marked host only: make demo)"]
    for name, in_machine, title in demos():
        lines.append(f"  {name:9} {'' if in_machine else '(host only)':12} {title}")
    return "\n".join(lines)


def crash(boot, fsck, at=CRASH_AT, say=print):
    """The crash demo, stopping at disk write at + 1: boot(bootargs) runs
    the machine on one disk and returns its console; fsck() checks that
    disk and returns (ok, its report).
    Returns True if the file system came back consistent with every
    completed operation."""
    say(f"crash: t_crashfs creates, writes, links, renames and unlinks files, one operation\n"
        f"crash: a step; the kernel stops the machine at disk write {at + 1} (diskcrash={at}),\n"
        f"crash: as a power failure would. Then a reboot on the same disk: "
        f"the file server\ncrash: replays its log; the tree must hold every completed "
        f"operation, and fsck agree.")
    out = boot(f"init=t_crashfs run diskcrash={at}")
    done = re.findall(r"^t_crashfs: op (\d+) done$", out, re.M)
    stopped = re.search(r"^rvexo: diskcrash: .*$", out, re.M)
    k = int(done[-1]) if done else 0
    say(f"crash: first boot: {len(done)} operations completed; "
        f"{stopped.group(0) if stopped else 'the machine was NOT stopped'}")
    if not stopped:
        say("crash: verdict: FAILED: no crash happened")
        return False
    say(f"crash: reboot: t_crashfs check {k}")
    check = boot(f"init=t_crashfs check {k}")
    for line in re.findall(r"^(?:fsd|t_crashfs): .*$", check, re.M):
        say(f"  {line}")
    held = re.search(r"^t_crashfs: the disk holds the first (\d+) ops", check, re.M)
    ok, text = fsck()
    say(f"crash: fsck: {text.strip().splitlines()[-1] if text.strip() else '(no output)'}")
    if held is None or not ok:
        say("crash: verdict: FAILED: the disk after the reboot is not what the operations made")
        return False
    say(f"crash: verdict: the file system is consistent and holds the first {held.group(1)} "
        f"operations")
    return True


def ash(boot, say=print):
    """The ash demo: boot(bootargs) runs the machine on bench.Peer's wire
    and returns its console. Returns True if the handler's round trip
    stays flat while the owner's grows with the busy processes."""
    say("ash: a UDP echo, answered either by the owner process or by a handler (ASH) the\n"
        "ash: owner downloaded into the kernel, which answers on arrival without scheduling\n"
        "ash: anyone. Busy processes share the processor; the host's peer sends the frames.\n"
        "ash: instructions from a frame's arrival to its echo's departure (exobench):")
    rows = [f"udp-roundtrip-{kind}-{k}" for kind in ("ash", "user") for k in ASH_PROCS]
    out = boot("init=exobench quick " + " ".join(rows))
    try:
        table = bench.parse(out)
    except ValueError as e:
        say(f"ash: verdict: FAILED: {e}")
        return False
    figures = {r["name"]: r["per_op"] for r in table["rows"] if r["measured"]}
    say(bench.chart(table["rows"]))
    ashes = [figures.get(f"udp-roundtrip-ash-{k}") for k in ASH_PROCS]
    users = [figures.get(f"udp-roundtrip-user-{k}") for k in ASH_PROCS]
    if None in ashes or None in users:
        say("ash: verdict: FAILED: a row has no figure")
        return False
    flat = max(ashes) <= min(ashes) * 1.1
    grows = all(a < b for a, b in zip(users, users[1:]))
    say(f"ash: verdict: the handler's round trip {min(ashes):,.0f}..{max(ashes):,.0f} "
        f"{'stays flat' if flat else 'does NOT stay flat'} from 0 to {ASH_PROCS[-1]} busy "
        f"processes; the owner's {users[0]:,.0f} to {users[-1]:,.0f} "
        f"{'grows with them' if grows else 'does NOT grow'}")
    return flat and grows


def fuzz(boot, seed=1, say=print):
    """The fuzz demo: boot(bootargs) runs the machine and returns its
    console. Returns True if the fuzzer's FUZZ_CALLS calls (seed seed)
    ended with every kcheck passing and nothing out of its control."""
    say("fuzz: the kernel treats every library OS as hostile. user/fuzz.c, the first\n"
        "fuzz: program, makes system calls with plausible and garbage arguments, and the\n"
        "fuzz: sequences where kernels break (destroy while waiting, while disk I/O is in\n"
        f"fuzz: flight, ...), running kcheck as it goes: {FUZZ_CALLS:,} calls, seed {seed}.")
    out = boot(f"init=fuzz seed={seed} calls={FUZZ_CALLS}")
    destroyed = len(re.findall(r"^rvexo: env \w+ \(\w+\) destroyed: ", out, re.M))
    summary = re.search(r"^fuzz: seed \d+: \d+ calls .*$", out, re.M)
    say(f"fuzz: the kernel destroyed {destroyed} environments the fuzzer made, for their "
        f"faults (each reported), and ran on")
    say(summary.group(0) if summary else "fuzz: the fuzzer did not finish")
    ok = summary is not None and summary.group(0).endswith(": OK")
    say(f"fuzz: verdict: {'every kcheck passed; nothing escaped the fuzzer' if ok else 'FAILED'}")
    return ok


def _run(command, show):
    """Run a QEMU command, passing on its console (the lines show() accepts);
    return the console."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, errors="replace")
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if show(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return "".join(lines).replace("\r", "")


def _with_disk(command, disk):
    """command with its -drive's file= replaced by disk."""
    return [re.sub(r"file=[^,]*", f"file={disk}", a) if a.startswith("file=") else a
            for a in command]


def _quiet(line):
    """The console lines a host demo passes on: none (it says what matters)."""
    return False


def main(argv):
    pace = None
    if argv[:1] == ["--pace"] and len(argv) > 1 and argv[1].isdigit():
        pace, argv = int(argv[1]), argv[2:]
    if "--" not in argv:
        print("usage: demo.py [--pace SECONDS] [NAME] -- QEMU-COMMAND...", file=sys.stderr)
        return 2
    at = argv.index("--")
    names, command = argv[:at], argv[at + 1:]
    if not names:
        print(listing())
        return 0
    name = names[0]
    known = {n: in_machine for n, in_machine, _ in demos()}
    if name not in known:
        print(f"demo.py: no demo {name}\n{listing()}", file=sys.stderr)
        return 2
    if known[name]:
        start = re.compile(r"^demo \w+: ")
        shown = [False]

        def from_demo(line):  # the console from the demo's first line on, and the view's address
            shown[0] = shown[0] or bool(start.match(line))
            return shown[0] or line.startswith("*** view: ")
        flag = ""
        if pace is not None:
            flag = f"-v{pace} "
            if name in BUSY:
                command = ["shift=auto" if a == "shift=0" else a for a in command]
        out = _run(command + ["-snapshot", "-append", f"init=demo {flag}{name}"], from_demo)
        return 0 if re.search(rf"^demo {name}: done$", out, re.M) else 1
    if pace is not None:
        print(f"demo {name}: not in the live view: it runs from the host ("
              f"{'two boots' if name == 'crash' else 'the wire' if name == 'ash' else 'a fuzzer'}"
              f"); run it without VIEW=1", file=sys.stderr)
        return 2
    print(f"demo {name}: " + next(t for n, _, t in demos() if n == name))
    number = int(names[1]) if len(names) > 1 and names[1].isdigit() else None
    if name == "crash":
        with tempfile.TemporaryDirectory(prefix="rvexo-demo-") as tmp:
            disk = os.path.join(tmp, "fs.img")
            shutil.copyfile(os.path.join(ROOT, "build", "fs.img"), disk)

            def fsck():
                r = subprocess.run([FSCK, disk], capture_output=True, text=True)
                text = (r.stdout + r.stderr).replace(f"fsck: {disk}: ", "")
                return r.returncode == 0 and "clean: " in text, text
            ok = crash(lambda args: _run(_with_disk(command, disk) + ["-append", args], _quiet),
                       fsck, number or CRASH_AT)
    elif name == "fuzz":
        ok = fuzz(lambda args: _run(command + ["-snapshot", "-append", args], _quiet),
                  number or 1)
    else:
        peer = bench.Peer()
        try:
            ok = ash(lambda args: _run(peer.command(command) + ["-snapshot", "-append", args],
                                       _quiet))
        finally:
            peer.close()
    print(f"demo {name}: {'done' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
