"""replay: run a failed test's recorded machine again (make replay).

    python3 labs/replay.py [--run K] [--log-dir DIR] LAB/TEST
        replay boot K (default: the last) of test LAB/TEST, recorded by the
        grader in DIR/<lab>-<test>.rr/ (DIR: build/grade), showing its
        console; then say whether the console printed exactly the bytes it
        printed when recorded. Status 0 if so, 1 if not, 2 if there is no
        such recording.
    ... --gdb LAB/TEST
        the same replay under GDB (make replay-gdb): GDB starts with
        .gdbinit, which starts the replay's QEMU halted at its first
        instruction (labs/rr.py; its console goes to replay-console.txt
        in the recording's directory), and loads the symbols of the
        program the boot ran. Breakpoints work as under make qemu-gdb,
        and icount, seek, back and last-write go back in time.
    ... --batch FILE LAB/TEST
        the same in GDB's batch mode, running the commands of FILE after
        .gdbinit (for tests and scripts).

A replay is the recorded machine, instruction for instruction: its inputs
(interrupts, disk completions, packets, clock reads) come from the
recording, so it prints the same and stops at the same counts every time.
After the recording's end QEMU stops the machine; the replay ends there.
"""

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradelib  # noqa: E402

ROOT = gradelib.ROOT
QUIET_END = 2.0   # seconds without output after which a replay is over
QUIET_STUCK = 10.0  # the same, when it has printed less than the recording
# What QEMU itself says when the grader stops it (not the machine's output;
# it may come in the middle of a line, after a prompt).
QEMU_STOPPED = re.compile(rb"qemu-system-[\w-]+: terminating on signal [^\n]*\n?")


def fail(message):
    """Print message as replay's error and exit with status 2."""
    print(f"replay: {message}", file=sys.stderr)
    sys.exit(2)


def find(log_dir, name, run):
    """(directory, record) of boot run (None: the last) of test name
    (lab/test); exit with status 2 and a message if there is none."""
    directory = os.path.join(log_dir, name.replace("/", "-", 1).replace(os.sep, "_") + ".rr")
    boots = sorted(int(f[3:-5]) for f in os.listdir(directory)
                   if f.startswith("run") and f.endswith(".json")) if os.path.isdir(directory) else []
    if not boots:
        fail(f"no recording of {name} in {gradelib._pretty_path(directory)} (the grader "
             f"keeps the recordings of failed tests only: run the test with ./grade-lab {name})")
    k = boots[-1] if run is None else run
    if k not in boots:
        fail(f"{name} has boots {', '.join(map(str, boots))}, not {k}")
    with open(os.path.join(directory, f"run{k}.json"), encoding="utf-8") as f:
        return directory, json.load(f)


def console(directory, record):
    """Replay record's boot, echoing its console; return the bytes the
    recording holds and those the replay printed, without QEMU's own
    "terminating on signal" line. The replay ends when QEMU exits (at the
    recording's end), or when nothing more comes for QUIET_END seconds
    after as many bytes as the recording's (QUIET_STUCK before)."""
    with open(os.path.join(directory, f"run{record['boot']}.out"), "rb") as f:
        expected = f.read()
    proc = gradelib._Process(record["replay"], cwd=directory,
                             echo=lambda text: (sys.stdout.write(text), sys.stdout.flush()))
    try:
        last, size = time.monotonic(), 0
        while not proc.exited():
            time.sleep(0.05)
            if len(proc.raw) != size:
                last, size = time.monotonic(), len(proc.raw)
            elif time.monotonic() - last > (QUIET_END if size >= len(expected) else QUIET_STUCK):
                break
    finally:
        proc.stop()
    return QEMU_STOPPED.sub(b"", expected), QEMU_STOPPED.sub(b"", bytes(proc.raw))


def compare(expected, got):
    """A sentence saying whether got is expected, or where it first
    differs; and whether it is."""
    if got == expected:
        return f"the same {len(got)} bytes as the recorded run", True
    at = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b),
              min(len(expected), len(got)))
    line = expected[:at].count(b"\n") + 1
    return (f"differs from the recorded run at byte {at} (line {line}): recorded "
            f"{len(expected)} bytes, replayed {len(got)}"), False


def gdb_argv(directory, record, batch=None):
    """The GDB command line of a replay under GDB, and its environment:
    .gdbinit filled in for a free port (written in directory), the
    replay's description in RVEXO_REPLAY (labs/rr.py starts its QEMU),
    then `user PROG` for the program the boot ran (init=PROG), then the
    commands of the file batch in batch mode."""
    port = gradelib._free_port()
    gdbinit = gradelib._write_gdbinit(os.path.join(directory, "replay.gdbinit"), port)
    prog = re.search(r"(?:^|\s)init=(\S+)", " ".join(record["argv"]))
    argv = [gradelib._make_print("print-gdb"), "-q", "-nx", "-x", gdbinit]
    if prog and os.path.exists(os.path.join(ROOT, "build", "user", prog.group(1))):
        argv += ["-ex", f"user {prog.group(1)}"]
    if batch:
        argv[1:2] = ["-batch"]
        argv += ["-x", batch]
    console = os.path.join(directory, "replay-console.txt")
    env = {**os.environ, "RVEXO_REPLAY": json.dumps({
        "argv": record["replay"], "dir": directory, "port": port, "console": console})}
    return argv, env, console


def main():
    """Parse the arguments and replay."""
    p = argparse.ArgumentParser(prog="replay", description="Replay a failed test's machine.")
    p.add_argument("test", metavar="LAB/TEST")
    p.add_argument("--run", type=int, metavar="K", help="replay boot K of the test")
    p.add_argument("--log-dir", metavar="DIR", default=os.path.join(ROOT, "build", "grade"))
    how = p.add_mutually_exclusive_group()
    how.add_argument("--gdb", action="store_true", help="replay under GDB")
    how.add_argument("--batch", metavar="FILE", help="replay under GDB in batch mode, "
                     "running the commands of FILE")
    args = p.parse_args()
    if "/" not in args.test:
        fail("name the test as LAB/TEST, e.g. make replay T=boot/banner")
    directory, record = find(args.log_dir, args.test, args.run)
    if args.batch or args.gdb:
        argv, env, screen = gdb_argv(directory, record, args.batch)
        if args.gdb:
            print(f"*** Replaying {args.test} (boot {record['boot']}) under GDB; the machine's "
                  f"console goes to {gradelib._pretty_path(screen)}", flush=True)
        os.chdir(ROOT)
        os.execvpe(argv[0], argv, env)
    print(f"*** Replaying {args.test} (boot {record['boot']})", flush=True)
    expected, got = console(directory, record)
    sentence, same = compare(expected, got)
    print(f"\n*** replay: the console printed {sentence}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
