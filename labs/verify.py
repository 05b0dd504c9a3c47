#!/usr/bin/env python3
"""Verify the labs: that each can be done from its handout, and that its
tests tell wrong solutions from right ones.

    labs/verify.py [-j N] [--keep] [LAB|LAB/WRONG ...]    (make verify-labs)

For each lab with a handout (default: all), in a scratch copy:
  starter  the handout tree (labs/handout.py) builds; every earlier lab's
           tests pass in it (the grader's guard of earlier labs); its own
           tests score 0, in under STARTER_SECONDS.
  wrong    for each labs/<lab>/wrong/<name>.patch, the reference tree with
           the patch applied builds, and the lab's tests lose points: every
           test its "Fails:" line names fails. (The reference is built once;
           each check starts from a copy of that build, so make rebuilds
           only what the patch changes.)
The reference tree scoring full marks is `make test`'s part. A wrong
solution is a file whose first lines are

    Mistake: what the student did wrong, in a sentence
    Fails: the lab's tests that must fail with it

then a blank line and a diff that `git apply` takes in the repository's
root (the tree as it is checked out, uncommitted changes included).

Each check prints one line; the last line is "N passed, N failed". The
exit status is 0 when all checks passed. -j N runs N checks at once (each
in its own tree, with its own build, disk images and GDB ports); --keep
keeps the scratch trees (under the system's temporary directory); without
it, a passed check's tree is removed as soon as it is done, and a failed
one's is kept for a look.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import handout  # noqa: E402

STARTER_SECONDS = 30    # a starter's own tests must all fail within this


def wrong_solutions(lab):
    """The paths of labs/<lab>/wrong/*.patch, sorted."""
    d = os.path.join(HERE, lab, "wrong")
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".patch"))


def read_wrong(path):
    """(mistake, tests that must fail) from a wrong solution's header;
    ValueError if the header is missing."""
    with open(path, encoding="utf-8") as f:
        head = f.read(4096)
    mistake = re.search(r"^Mistake: (.+)$", head, re.M)
    fails = re.search(r"^Fails: (.+)$", head, re.M)
    if not mistake or not fails:
        raise ValueError(f"{os.path.relpath(path, TOP)}: no Mistake: or Fails: line")
    return mistake.group(1).strip(), fails.group(1).split()


def run(argv, cwd, log):
    """Run argv in cwd, appending its output to the file log; return its
    exit status."""
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"\n$ {' '.join(argv)}\n")
        f.flush()
        return subprocess.run(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode


def grade(tree, words, log):
    """Build tree and grade words in it; return the --json results, or
    None (and why) if the build or the grader failed to run."""
    if run(["make", "-s", "-j2"], tree, log) != 0:
        return None, "does not build"
    results = os.path.join(tree, "verify-results.json")
    # --no-record: a throwaway tree's failures are expected, not replayed.
    status = run([sys.executable, "grade-lab", "--no-build", "--no-record", "--json", results, *words],
                 tree, log)
    if status not in (0, 1) or not os.path.exists(results):
        return None, f"the grader could not run (status {status})"
    with open(results, encoding="utf-8") as f:
        return json.load(f)["results"], None


def copy_reference(dest, built=None):
    """Copy the reference tree's tracked files (as checked out) to dest,
    with their times; and, if built names a tree already built from such a
    copy, its build/ directory, so that make rebuilds only what a patch
    then changes."""
    for rel in handout.tracked_files():
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(os.path.join(TOP, rel), os.path.join(dest, rel))
    if built:
        shutil.copytree(os.path.join(built, "build"), os.path.join(dest, "build"), symlinks=True)


def build_base(root):
    """Build a copy of the reference once, under root, for the wrong
    solutions' checks to start from; returns its path, or None (with the
    log kept) if it does not build."""
    base = os.path.join(root, "base")
    os.makedirs(base)
    copy_reference(base)
    if run(["make", "-s", "-j2"], base, os.path.join(root, "base.log")) != 0:
        return None
    return base


def check_starter(lab, scratch):
    """The starter check of lab; returns (ok, one line)."""
    tree = os.path.join(scratch, "starter")
    log = os.path.join(scratch, "log")
    handout.make_handout(lab, tree)
    results, why = grade(tree, [lab], log)
    if results is None:
        return False, f"the handout {why}"
    own = [r for r in results if not r.get("earlier")]
    earlier = [r for r in results if r.get("earlier")]
    scoring = [f"{r['name']} ({r['points']})" for r in own if r["points"]]
    broken = [f"{r['lab']}/{r['name']}" for r in earlier if r["status"] != "pass"]
    seconds = sum(r["seconds"] for r in own)
    problems = []
    if scoring:
        problems.append("scores before any work: " + ", ".join(scoring))
    if broken:
        problems.append("earlier labs' tests fail: " + ", ".join(broken))
    if seconds > STARTER_SECONDS:
        problems.append(f"its tests take {seconds:.0f}s to fail (limit {STARTER_SECONDS}s)")
    what = (f"builds, {len(earlier) - len(broken)}/{len(earlier)} earlier tests pass, "
            f"0/{sum(r['max_points'] for r in own)} in {seconds:.1f}s")
    return not problems, "; ".join(problems) if problems else what


def check_wrong(lab, path, scratch, base=None):
    """The check of one wrong solution of lab, starting from the built
    reference base if given; returns (ok, one line)."""
    try:
        mistake, must_fail = read_wrong(path)
    except ValueError as e:
        return False, str(e)
    tree = os.path.join(scratch, "tree")
    log = os.path.join(scratch, "log")
    copy_reference(tree, base)
    if run(["git", "apply", path], tree, log) != 0:
        return False, "the patch does not apply to the reference"
    results, why = grade(tree, ["--no-earlier", lab], log)
    if results is None:
        return False, f"with the patch the tree {why}"
    points = sum(r["points"] for r in results)
    most = sum(r["max_points"] for r in results)
    status = {r["name"]: r["status"] for r in results}
    unknown = [n for n in must_fail if n not in status]
    passed = [n for n in must_fail if status.get(n) == "pass"]
    if unknown:
        return False, f"Fails: names no test of lab {lab}: {' '.join(unknown)}"
    if points >= most or passed:
        return False, (f"scores {points}/{most}" +
                       (f"; passes {' '.join(passed)}, which Fails: names" if passed else "") +
                       f" ({mistake})")
    return True, f"{points}/{most}, fails {' '.join(n for n in status if status[n] != 'pass')}"


def jobs_for(selection):
    """The checks to run: (label, lab, wrong patch path or None)."""
    labs = handout.student_labs()
    jobs = []
    for word in selection or labs:
        lab, _, name = word.partition("/")
        if lab not in labs:
            sys.exit(f"verify: no lab named {lab!r}; the labs are: {' '.join(labs)}")
        patches = wrong_solutions(lab)
        if name:
            patches = [p for p in patches if os.path.basename(p) == name + ".patch"]
            if not patches:
                sys.exit(f"verify: lab {lab} has no wrong solution {name!r}")
        else:
            jobs.append((f"{lab} starter", lab, None))
        jobs += [(f"{lab} wrong/{os.path.basename(p)[:-6]}", lab, p) for p in patches]
    return jobs


def main(argv):
    """Run the selected checks and print one line each and the totals."""
    p = argparse.ArgumentParser(prog="verify.py", description="Verify the labs.")
    p.add_argument("labs", nargs="*", metavar="LAB|LAB/WRONG")
    p.add_argument("-j", type=int, default=1, metavar="N", help="checks at once")
    p.add_argument("--keep", action="store_true", help="keep the scratch trees")
    args = p.parse_args(argv)
    jobs = jobs_for(args.labs)
    labs = handout.student_labs()
    few = [lab for lab in labs if (not args.labs or lab in args.labs) and
           len(wrong_solutions(lab)) < 5]
    root = tempfile.mkdtemp(prefix="rvexo-verify-")
    width = max(len(label) for label, _, _ in jobs)
    base = build_base(root) if any(patch for _, _, patch in jobs) else None

    def one(i, job):
        """Run job i in its own scratch directory."""
        label, lab, patch = job
        scratch = os.path.join(root, f"{i:02d}-{label.replace(' ', '-').replace('/', '-')}")
        os.makedirs(scratch)
        start = time.monotonic()
        try:
            ok, line = (check_wrong(lab, patch, scratch, base) if patch
                        else check_starter(lab, scratch))
        except (OSError, handout.HandoutError, subprocess.SubprocessError) as e:
            ok, line = False, f"error: {e}"
        if ok and not args.keep:  # a build and its disks each: the whole run would not fit
            shutil.rmtree(scratch, ignore_errors=True)
        return ok, f"  {label:<{width}}  {'ok  ' if ok else 'FAIL'}  {line} " \
                   f"({time.monotonic() - start:.0f}s)" + ("" if ok else f"\n    log: {scratch}/log")

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for ok, line in pool.map(lambda ij: one(*ij), enumerate(jobs)):
            print(line, flush=True)
            passed, failed = passed + ok, failed + (not ok)
    for lab in few:
        print(f"  {lab}: only {len(wrong_solutions(lab))} wrong solutions (at least 5 wanted)")
        failed += 1
    if not args.keep and not failed:
        shutil.rmtree(root, ignore_errors=True)
    elif not args.keep:
        print(f"scratch trees of the failed checks kept in {root}")
    print(f"\n{passed} passed, {failed} failed")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
