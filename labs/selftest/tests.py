# Lab selftest: the grader tests itself, without QEMU.
#
# Each test runs an inner grader (python3 grade-lab --labs-dir ...) on the
# fixture labs in fixtures/ (fake, other, sched, threads, vm), whose "machine" is
# fixtures/machine.py, and checks what the inner grader printed, its exit
# status and its --json file. Logs of the inner runs go to a temporary
# directory (--log-dir), never to build/grade.

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
MACHINE = os.path.join(FIXTURES, "machine.py")
ROOT = os.path.dirname(os.path.dirname(HERE))
GRADE_LAB = os.path.join(ROOT, "grade-lab")


def grade(t, tmp, *words, env=None, build=False):
    """Run the inner grader on the fixture labs with words (lab, filters,
    options), its log dir and JSON file in tmp. Returns (out, data): the
    Output of the run and the parsed JSON (None if none was written)."""
    json_path = os.path.join(tmp, "results.json")
    if os.path.exists(json_path):
        os.remove(json_path)
    argv = [sys.executable, GRADE_LAB, "--labs-dir", FIXTURES,
            "--log-dir", os.path.join(tmp, "logs"), "--json", json_path]
    out = t.run(argv + ([] if build else ["--no-build"]) + list(words), env=env)
    if not os.path.exists(json_path):
        return out, None
    with open(json_path) as f:
        return out, json.load(f)


def last_line(out):
    """The last line of out ("" if it is empty)."""
    lines = out.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


def line(text):
    """A regex matching exactly the line text."""
    return "^" + re.escape(text) + "$"


def record(data, fullname):
    """The JSON record of test lab/name in data, or {} if absent."""
    for r in (data or {}).get("results", []):
        if f"{r['lab']}/{r['name']}" == fullname:
            return r
    return {}


def listed(t, *words):
    """The "lab/name" test names that the inner `grade-lab --list words` prints."""
    out = t.run([sys.executable, GRADE_LAB, "--labs-dir", FIXTURES, "--list", *words])
    t.check(out.returncode == 0, f"--list {' '.join(words)}: exit status {out.returncode}")
    return [m.group(1) for m in re.finditer(r"^(\S+) \(\d+\)$", out, re.M)]


@test(points=1)
def expect_pass_and_fail(t):
    """A met expectation passes; an unmet one fails, names the regex and
    saves the machine's output."""
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = grade(t, tmp, "fake", "fake/greets", "fake/misses")
        t.expect(out, r"^  fake/greets +PASS +2/2 +\(\d+\.\ds\)$",
                 r"^  fake/misses +FAIL +0/3 +\(\d+\.\ds\)$",
                 line("    missing: /^init: ok$/"))
        t.forbid(out, r"missing: /\^rvexo")
        t.check(last_line(out) == "1 passed, 1 failed", f"last line: {last_line(out)!r}")
        t.check(out.returncode == 1, f"exit status {out.returncode}, not 1")
        saved = re.findall(r"^    output saved to (.+)$", out, re.M)
        if t.check(len(saved) == 1, f"{len(saved)} 'output saved to' lines, not 1"):
            path = os.path.join(ROOT, saved[0])
            if t.check(os.path.isfile(path), f"no log file {path}"):
                with open(path) as f:
                    log = f.read()
                t.expect(log, r"^rvexo: hello$", r"machine\.py say 'rvexo: hello'$")
        t.check(not os.path.exists(os.path.join(tmp, "logs", "fake-greets.log")),
                "a log was saved for a passing test")


@test(points=1)
def forbid_reports_line(t):
    """A forbidden regex that matches fails the test and shows the whole line."""
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = grade(t, tmp, "fake", "warns")
        t.expect(out, r"^  fake/warns +FAIL +0/1 ",
                 line("    unexpected line: warning: disk 7 is slow"))
        t.forbid(out, r"unexpected line: (boot|done)$")
        t.check(last_line(out) == "0 passed, 1 failed", f"last line: {last_line(out)!r}")


@test(points=1)
def parent_failure_skips(t):
    """A child of a failed parent is skipped and not run; a child of a
    passing parent runs. (With -v, so machine output is shown live.)"""
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = grade(t, tmp, "-v", "fake", "greets", "misses", "after_misses", "after_greets")
        t.expect(out, line("  fake/after_misses  SKIP  (parent fake/misses failed)"),
                 r"^  fake/after_greets +PASS +1/1 ",
                 r"^after_greets ran$", r"^rvexo: hello$",
                 line("Score: 3/7 points"))
        t.forbid(out, r"^after_misses ran$")
        t.check(last_line(out) == "2 passed, 1 failed, 1 skipped", f"last line: {last_line(out)!r}")
        t.check(out.returncode == 1, f"exit status {out.returncode}, not 1")


@test(points=1)
def exit_status(t):
    """Exit status 0 when all pass, 1 when a test fails, 2 when no test matches."""
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = grade(t, tmp, "fake", "greets", "after_greets")
        t.check(out.returncode == 0, f"all passed: exit status {out.returncode}, not 0")
        t.check(last_line(out) == "2 passed, 0 failed", f"all passed: last line {last_line(out)!r}")
        t.expect(out, line("Score: 3/3 points"))
        out, _ = grade(t, tmp, "fake", "fake/greets", "fails_early")
        t.check(out.returncode == 1, f"one failed: exit status {out.returncode}, not 1")
        t.check(last_line(out) == "1 passed, 1 failed", f"one failed: last line {last_line(out)!r}")
        out, _ = grade(t, tmp, "fake", "no_such_test")
        t.check(out.returncode == 2, f"no test matched: exit status {out.returncode}, not 2")
        t.expect(out, r"no test matches 'no_such_test'")
        out, _ = grade(t, tmp, "fake", "greets", "no_such_test")
        t.check(out.returncode == 2, f"one filter unmatched: exit status {out.returncode}, not 2")
        t.forbid(out, r"PASS")
        out, _ = grade(t, tmp, "no_such_lab")
        t.check(out.returncode == 2, f"unknown lab: exit status {out.returncode}, not 2")
        t.expect(out, r"the labs are: sched threads fake other vm")


@test(points=1)
def exceptions_reported(t):
    """An exception in a test fails it with the exception's line; t.fail
    ends the test at once."""
    with tempfile.TemporaryDirectory() as tmp:
        out, _ = grade(t, tmp, "fake", "raises", "fails_early")
        t.expect(out, r"^  fake/raises +FAIL ",
                 r"^    exception at tests\.py:\d+: ZeroDivisionError: ",
                 r"^  fake/fails_early +FAIL ", line("    gave up early"))
        t.forbid(out, r"not reached")
        t.check(last_line(out) == "0 passed, 2 failed", f"last line: {last_line(out)!r}")


@test(points=1)
def send_waits_for_prompt(t):
    """Input is typed only once its prompt has appeared, and the second
    prompt is looked for after the first one's match. (The fake machine
    reports input that arrives before it shows its prompt.)"""
    with tempfile.TemporaryDirectory() as tmp:
        out, data = grade(t, tmp, "fake", "prompts")
        t.expect(out, r"^  fake/prompts +PASS +2/2 ")
        t.forbid(out, r"EARLY")
        t.check(record(data, "fake/prompts").get("status") == "pass", "JSON status is not pass")
        t.check(out.returncode == 0, f"exit status {out.returncode}, not 0")


@test(points=1)
def stop_ends_run(t):
    """The stop regex ends a machine that runs forever, long before its
    20 s limit, and kills the child it left behind."""
    with tempfile.TemporaryDirectory() as tmp:
        out, data = grade(t, tmp, "fake", "stops", env={"GRADE_TIME_SCALE": "1"})
        t.expect(out, r"^  fake/stops +PASS +1/1 ")
        seconds = record(data, "fake/stops").get("seconds", 99)
        t.check(seconds < 5, f"fake/stops took {seconds}s")
        t.check(out.seconds < 10, f"the inner grader took {out.seconds:.1f}s")


@test(points=1)
def time_scale_applies(t):
    """GRADE_TIME_SCALE=0.1 makes a 10 s limit 1 s; reaching the limit is
    noted on failure and is no failure by itself. A bad scale is refused."""
    with tempfile.TemporaryDirectory() as tmp:
        out, data = grade(t, tmp, "fake", "times_out", "slow_ok", env={"GRADE_TIME_SCALE": "0.1"})
        t.expect(out, r"^  fake/times_out +FAIL ", line("    time limit (1s) reached"),
                 r"^  fake/slow_ok +PASS ")
        t.check(out.seconds < 8, f"the inner grader took {out.seconds:.1f}s (limits not scaled?)")
        slow = record(data, "fake/slow_ok")
        t.check(0.9 <= slow.get("seconds", 0) < 5, f"fake/slow_ok took {slow.get('seconds')}s, not ~1s")
        t.check(slow.get("messages") == [], f"fake/slow_ok has messages {slow.get('messages')}")
        out, _ = grade(t, tmp, "fake", "greets", env={"GRADE_TIME_SCALE": "fast"})
        t.check(out.returncode == 2, f"GRADE_TIME_SCALE=fast: exit status {out.returncode}, not 2")
        t.expect(out, r"GRADE_TIME_SCALE must be a positive number")


@test(points=1)
def filters_select_tests(t):
    """Labs come in LAB_ORDER, then alphabetically; a first word that is
    not a lab filters all labs; filters match by name, substring or pattern."""
    labs = []
    for name in listed(t):
        if name.split("/")[0] not in labs:
            labs.append(name.split("/")[0])
    t.check(labs == ["sched", "threads", "fake", "other", "vm"], f"lab order {labs}")
    cases = [(["fake", "greets"], ["fake/greets", "fake/after_greets"]),
             (["greets"], ["fake/greets", "fake/after_greets", "other/greets_too"]),
             (["fake", "after_*", "misses"], ["fake/misses", "fake/after_misses", "fake/after_greets"]),
             (["fake/greets"], ["fake/greets"]),
             (["all", "noop"], ["sched/noop"])]
    for words, want in cases:
        got = listed(t, *words)
        t.check(got == want, f"--list {' '.join(words)}: {got}, not {want}")
    with tempfile.TemporaryDirectory() as tmp:
        out, data = grade(t, tmp, "other", "greets")
        names = [f"{r['lab']}/{r['name']}" for r in (data or {}).get("results", [])]
        t.check(names == ["other/greets_too"], f"`other greets` ran {names}")
        t.check(out.returncode == 0, f"`other greets`: exit status {out.returncode}, not 0")


@test(points=1)
def json_results(t):
    """--json writes every selected test's record, in order, and the totals."""
    with tempfile.TemporaryDirectory() as tmp:
        _, data = grade(t, tmp, "fake", "fake/greets", "fake/misses", "after_misses")
        if not data:
            t.fail("no JSON written")
        results = data.get("results", [])
        t.check([r.get("name") for r in results] == ["greets", "misses", "after_misses"],
                f"results for {[r.get('name') for r in results]}")
        keys = {"lab", "name", "points", "max_points", "status", "seconds", "output_file", "messages",
                "machine_said"}
        for r in results:
            t.check(set(r) == keys, f"{r.get('name')}: keys {sorted(r)}")
            t.check(isinstance(r.get("seconds"), (int, float)) and r["seconds"] >= 0,
                    f"{r.get('name')}: seconds {r.get('seconds')!r}")
        want = {"greets": ("pass", 2, 2, []),
                "misses": ("fail", 0, 3, ["missing: /^init: ok$/"]),
                "after_misses": ("skip", 0, 1, ["parent fake/misses failed"])}
        for r in results:
            got = (r.get("status"), r.get("points"), r.get("max_points"), r.get("messages"))
            t.check(got == want.get(r.get("name")), f"{r.get('name')}: {got}")
        logs = {r.get("name"): r.get("output_file") for r in results}
        t.check(logs.get("greets") is None and logs.get("after_misses") is None,
                f"output_file of passed/skipped tests: {logs}")
        t.check(bool(logs.get("misses")) and os.path.isfile(logs["misses"]),
                f"output_file of misses: {logs.get('misses')!r}")
        totals = {"passed": 1, "failed": 1, "skipped": 1, "points": 2, "max_points": 6}
        t.check(data.get("totals") == totals, f"totals {data.get('totals')}")


FAKE_MAKE = """#!{python}
# A fake make for the grader's self-test: logs its target, fails the build
# if FAKE_MAKE_FAIL is set, and prints what the environment says.
import os, sys
target = " ".join(a for a in sys.argv[1:] if not a.startswith("-")) or "(build)"
with open(os.environ["FAKE_MAKE_LOG"], "a") as f:
    f.write(target + "\\n")
if target == "(build)" and os.environ.get("FAKE_MAKE_FAIL"):
    print("cc: error: boom")
    sys.exit(2)
elif target == "print-qemu":
    print(os.environ["FAKE_QEMU"])
elif target == "print-gdb":
    print(os.environ["FAKE_GDB"])
elif target != "(build)":
    sys.exit("make: *** No rule to make target " + target)
"""


def fake_make_env(tmp, make_log, machine_mode):
    """The environment for an inner grader with the fake make first in PATH
    (written to tmp/bin, logging to make_log), whose QEMU is machine.py in
    machine_mode and whose GDB is machine.py gdb."""
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir, exist_ok=True)
    make = os.path.join(bindir, "make")
    with open(make, "w") as f:
        f.write(FAKE_MAKE.format(python=sys.executable))
    os.chmod(make, 0o755)
    gdb = os.path.join(bindir, "gdb")
    with open(gdb, "w") as f:
        f.write(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(MACHINE)} gdb \"$@\"\n")
    os.chmod(gdb, 0o755)
    return {"PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "FAKE_MAKE_LOG": make_log,
            "FAKE_GDB": gdb, "FAKE_QEMU": shlex.join([sys.executable, MACHINE, machine_mode])}


@test(points=1)
def qemu_setup_is_lazy(t):
    """Only the first t.qemu() builds (once), and no GDB port is asked
    for; a failed build stops the grader with status 2."""
    with tempfile.TemporaryDirectory() as tmp:
        make_log = os.path.join(tmp, "make.log")
        env = fake_make_env(tmp, make_log, "args")

        def make_calls():
            """The targets the fake make was asked for, then forget them."""
            if not os.path.exists(make_log):
                return []
            with open(make_log) as f:
                calls = f.read().split("\n")[:-1]
            os.remove(make_log)
            return calls

        out, _ = grade(t, tmp, "fake", "greets", env=env, build=True)
        t.check(out.returncode == 0, f"no QEMU: exit status {out.returncode}")
        t.check(make_calls() == [], "make ran though no test boots QEMU")

        out, _ = grade(t, tmp, "vm", "boots", env=env, build=True)
        t.expect(out, r"^  vm/boots +PASS ", r"^  vm/boots_again +PASS ")
        calls = make_calls()
        t.check(calls == ["(build)", "print-qemu"],
                f"make was asked for {calls}, not (build), print-qemu")

        out, _ = grade(t, tmp, "vm", "boots", env={**env, "FAKE_MAKE_FAIL": "1"}, build=True)
        t.check(out.returncode == 2, f"failed build: exit status {out.returncode}, not 2")
        t.expect(out, r"the build failed", r"^cc: error: boom$")
        t.forbid(out, r"passed, ")


@test(points=1)
def gdb_ports_are_private(t):
    """Two graders at once, and a QEMU holding this user's `make qemu-gdb`
    port, do not get in each other's way: each t.gdb() picks a free port
    of its own, and GDB connects to its own machine there."""
    with tempfile.TemporaryDirectory() as tmp:
        env = fake_make_env(tmp, os.path.join(tmp, "make.log"), "gdbstub")
        with socket.socket() as held:  # as a forgotten `make qemu-gdb` would
            held.bind(("127.0.0.1", 0))
            held.listen()
            runs = []
            for i in range(2):
                os.mkdir(os.path.join(tmp, str(i)))
                argv = [sys.executable, GRADE_LAB, "--labs-dir", FIXTURES, "--log-dir",
                        os.path.join(tmp, str(i)), "--no-build", "-v", "vm", "debugs"]
                runs.append(subprocess.Popen(argv, env={**os.environ, **env}, text=True,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
            outs = [p.communicate(timeout=30)[0] for p in runs]
        for i, out in enumerate(outs):
            t.check(re.search(r"^  vm/debugs +PASS ", out, re.M),
                    f"grader {i} did not pass vm/debugs:\n{out}")
        ports = [re.findall(r"stub on (\d+)", out) for out in outs]
        t.check(all(ports) and ports[0] != ports[1], f"ports {ports}: not one each")


@test(points=1)
def failure_explained(t):
    """A fatal line (a FAIL, a panic) ends the run at once, not at the time
    limit; under the failure come the lines that explain it, the test's
    hint and the hints whose symptom appeared, and how to run it alone."""
    with tempfile.TemporaryDirectory() as tmp:
        env = fake_make_env(tmp, os.path.join(tmp, "make.log"), "crash")
        out, data = grade(t, tmp, "--no-earlier", "threads", env=env)
        t.expect(out, r"^  threads/crashes +FAIL +0/4 +\((\d\.\d)s\)$",
                 line("    missing: /^all ok$/"), line("    the machine said:"),
                 line("      t_fake: FAIL: got 1, want 2"),
                 line("      panic at kernel/fake.c:7: fake panic"),
                 line("      backtrace:"), line("        #0 0x0000000080200010 panic_at+0x10"),
                 line("    hint: read the panic first"),
                 line("    hint: a fake panic: the fixture always panics"),
                 line("    run it alone: ./grade-lab threads/crashes"),
                 line('    run it alone: make qemu ARGS="init=t_fake"'))
        t.forbid(out, r"not shown", r"tick", r"time limit")
        r = record(data, "threads/crashes")
        t.check(r.get("seconds", 99) < 10, f"the run was not ended early: {r.get('seconds')}s")
        t.check("hint: read the panic first" in r.get("messages", []), f"--json: {r}")


@test(points=1)
def earlier_labs_guard(t):
    """Grading one whole lab also runs the earlier labs' tests (a lab must
    not break them), apart from its score; --no-earlier and filters skip
    them; --gradescope writes Gradescope's results.json."""
    with tempfile.TemporaryDirectory() as tmp:
        env = fake_make_env(tmp, os.path.join(tmp, "make.log"), "crash")
        gs = os.path.join(tmp, "gradescope.json")
        out, data = grade(t, tmp, "threads", "--gradescope", gs, env=env)
        t.expect(out, r"^The earlier labs' tests, which lab threads must not break",
                 r"^  sched/noop +PASS ", line("Score: 0/4 points"),
                 line("1 passed, 1 failed"))
        t.check(out.returncode == 1, f"exit status {out.returncode}, not 1")
        t.check([r.get("earlier", False) for r in (data or {}).get("results", [])] ==
                [False, True], "--json does not mark the earlier lab's test")
        with open(gs) as f:
            scope = json.load(f)
        names = [(x["name"], x["score"], x["max_score"], x["status"]) for x in scope["tests"]]
        t.check(names == [("threads/crashes", 0, 4, "failed"),
                          ("earlier lab sched/noop", 0, 0, "passed")], f"gradescope tests {names}")
        t.check(scope["score"] == 0 and "hint: read the panic first" in scope["tests"][0]["output"]
                and "panic at kernel/fake.c:7" in scope["tests"][0]["output"],
                f"gradescope results: {scope}")
        for words in (["--no-earlier", "threads"], ["threads", "crashes"]):
            out, _ = grade(t, tmp, *words, env=env)
            t.forbid(out, r"sched/noop")


@test(points=1)
def handout_strips_labs(t):
    """labs/handout.py removes the marked code of the lab and later labs,
    leaves the instruction and any HANDOUT stub, keeps earlier labs'
    solutions, and refuses unbalanced markers."""
    sys.path.insert(0, os.path.dirname(HERE))
    import handout
    text = ("int f(void)\n{\n  // LAB fork: make it work\n  // HANDOUT: return 0;\n"
            "  return 1;\n  // END LAB fork\n}\n")
    t.check(handout.strip_file(text, {"fork", "sched"}, "f.c") ==
            "int f(void)\n{\n  // LAB fork: make it work\n  // Your code here.\n  return 0;\n}\n",
            "the handout of lab fork is wrong")
    t.check("return 1;" in handout.strip_file(text, {"sched"}, "f.c"),
            "a later lab's handout lost lab fork's solution")
    for bad in ("  // LAB fork: x\n", "  // END LAB fork\n",
                "  // LAB fork: x\n  // LAB sched: y\n  // END LAB sched\n  // END LAB fork\n"):
        try:
            handout.strip_file(bad, {"fork"}, "bad.c")
            t.fail(f"unbalanced markers accepted: {bad!r}")
        except ValueError:
            pass


def git(t, repo, *args):
    """Run git in repo (as a student would); fail the test if it fails."""
    out = t.run(["git", "-C", repo, "-c", "user.name=student", "-c", "user.email=s@localhost",
                 *args])
    if out.returncode != 0:
        t.fail(f"git {' '.join(args)}: status {out.returncode}\n{out}")
    return out


@test(points=1, timeout=60)
def handout_repo_carries_work(t):
    """The class repository (handout.py --repo): a branch per lab, each on
    the previous; a student's code of one lab merges into the next; a
    released solution brings that lab's reference code only. Handouts
    refuse to overwrite, unknown labs, and handouts of handouts."""
    script = os.path.join(os.path.dirname(HERE), "handout.py")
    with tempfile.TemporaryDirectory() as tmp:
        origin, clone = os.path.join(tmp, "class"), os.path.join(tmp, "student")
        out = t.run([sys.executable, script, "--repo", origin])
        t.check(out.returncode == 0, f"--repo: status {out.returncode}\n{out}")
        branches = git(t, origin, "branch", "--format=%(refname:short)").split()
        t.check({"boot", "bindings", "upcalls", "fork", "revoke"} <= set(branches),
                f"branches {branches}")
        t.check(git(t, origin, "merge-base", "--is-ancestor", "boot", "upcalls").returncode == 0,
                "upcalls is not built on boot")
        git(t, tmp, "clone", "-q", origin, clone)
        git(t, clone, "checkout", "-q", "boot")
        t.check(not os.path.exists(os.path.join(clone, "labs", "upcalls")),
                "the boot branch has the upcalls lab already")
        printf_c = os.path.join(clone, "kernel", "printf.c")
        with open(printf_c) as f:
            text = f.read()
        t.check("// Your code here." in text, "the boot branch has boot's solution")
        with open(printf_c, "w") as f:
            f.write(text.replace("// Your code here.", "// the student's backtrace", 1))
        git(t, clone, "commit", "-qam", "boot: my backtrace")
        git(t, clone, "checkout", "-q", "upcalls")
        git(t, clone, "merge", "-q", "--no-edit", "boot")
        with open(printf_c) as f:
            t.check("the student's backtrace" in f.read(), "the boot work did not carry forward")
        t.check(os.path.exists(os.path.join(clone, "labs", "upcalls", "tests.py")),
                "the upcalls branch lacks its tests")
        t.check(not os.path.exists(os.path.join(clone, "labs", "fork", "wrong")),
                "the wrong solutions went to students")
        out = t.run([sys.executable, script, "--solution", "upcalls", origin])
        t.check(out.returncode == 0, f"--solution: status {out.returncode}\n{out}")
        git(t, clone, "fetch", "-q")
        git(t, clone, "merge", "-q", "--no-edit", "origin/solution/upcalls")
        changed = git(t, clone, "diff", "--name-only", "HEAD~1", "HEAD").split()
        with open(printf_c) as f:
            t.check("the student's backtrace" in f.read(), "the solution overwrote boot's work")
        t.check(changed and all(n.startswith(("ulib/", "labs/upcalls/")) for n in changed),
                f"the solution of upcalls changed {changed}")
        out = t.run([sys.executable, script, "boot", clone])
        t.check(out.returncode == 2 and "not empty; nothing was written" in out,
                f"a handout over a tree: {out.returncode} {out}")
        out = t.run([sys.executable, script, "network", os.path.join(tmp, "n")])
        t.check(out.returncode == 2 and "no lab named 'network'" in out, f"lab network: {out}")
        out = t.run([sys.executable, os.path.join(clone, "labs", "handout.py"), "fork",
                     os.path.join(tmp, "h")])
        t.check(out.returncode == 2 and "this tree is a handout" in out, f"in a handout: {out}")
