#!/usr/bin/env python3
"""Grade a class: every submission of a lab, in parallel, with the
instructor's tests.

    labs/classgrade.py LAB DIR [-j N] [--out OUT] [--csv FILE]
        grade each subdirectory of DIR (a student's repository or tree)
    labs/classgrade.py LAB --one SUBMISSION --gradescope FILE
        grade one submission, writing Gradescope's results.json (what
        labs/autograder/run_autograder does)
    labs/classgrade.py LAB --autograder ZIP      (make autograder LAB=x)
        write the zip to upload to Gradescope as lab LAB's autograder:
        labs/autograder/'s setup.sh and run_autograder, the file LAB,
        and this tree in rvexo/

A submission is graded in a scratch tree of its own: the reference tree
with every lab's code removed (as a handout), over which the
submission's copies of the files that hold lab code (those with `LAB`
markers) are laid. Everything else -- the tests, the test programs, the
grader, the Makefile -- is the instructor's, so a submission cannot
change how it is graded. The tree is built and `./grade-lab LAB` run in
it, which also runs the earlier labs' tests (the student's own earlier
solutions must still pass them). Runs share no build directory, disk
image or port.

OUT (default: build/class-LAB in this repository) receives, for each
submission NAME: NAME.log (the build and grader output), NAME.json
(grade-lab --json) and NAME.gradescope.json; and scores.csv (or --csv
FILE): name, score, max_score, passed, failed, earlier_failed, seconds,
status. The table printed at the end holds the same.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import handout  # noqa: E402


def lab_files():
    """The reference's files that hold lab code (a LAB marker): the only
    files taken from a submission."""
    found = []
    for rel in handout.tracked_files():
        try:
            with open(os.path.join(TOP, rel), encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        if any(handout.BEGIN.match(line) for line in text.splitlines()):
            found.append(rel)
    return found


def scratch_tree(submission, tree):
    """Make tree: the reference with all lab code removed, and the
    submission's copies of the lab files over it. Returns the lab files
    the submission lacks."""
    labs = handout.student_labs()
    handout.write_tree(tree, set(handout.LAB_ORDER[handout.LAB_ORDER.index(labs[0]):]),
                       mark=f"a submission graded from {submission}")
    missing = []
    for rel in lab_files():
        src = os.path.join(submission, rel)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(tree, rel))
        else:
            missing.append(rel)
    return missing


def grade_one(lab, submission, tree, log, results, gradescope):
    """Grade submission for lab in the scratch tree; write the grader's
    JSON to results and Gradescope's to gradescope. Returns a summary
    dict (name, score, max_score, passed, failed, earlier_failed,
    seconds, status)."""
    start = time.monotonic()
    row = {"name": os.path.basename(os.path.normpath(submission)), "score": 0, "max_score": 0,
           "passed": 0, "failed": 0, "earlier_failed": 0, "seconds": 0, "status": ""}
    with open(log, "w", encoding="utf-8") as f:
        missing = scratch_tree(submission, tree)
        if missing:
            f.write("files not in the submission (the starter's used): "
                    + " ".join(missing) + "\n")
        f.flush()
        built = subprocess.run(["make", "-s", "-j2"], cwd=tree, stdout=f,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if built.returncode != 0:
            row["status"] = "does not build"
            write_build_failure(gradescope, log)
        else:
            subprocess.run([sys.executable, "grade-lab", "--no-build", "--json", results,
                            "--gradescope", gradescope, lab], cwd=tree, stdout=f,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if os.path.exists(results):
        with open(results, encoding="utf-8") as f:
            data = json.load(f)
        own = [r for r in data["results"] if not r.get("earlier")]
        row.update(score=sum(r["points"] for r in own), max_score=sum(r["max_points"] for r in own),
                   passed=sum(r["status"] == "pass" for r in own),
                   failed=sum(r["status"] != "pass" for r in own),
                   earlier_failed=sum(r.get("earlier", False) and r["status"] == "fail"
                                      for r in data["results"]))
        row["status"] = "breaks an earlier lab" if row["earlier_failed"] else "graded"
    elif not row["status"]:
        row["status"] = "the grader did not run"
    row["seconds"] = round(time.monotonic() - start)
    return row


def write_build_failure(path, log):
    """Gradescope's results.json for a submission that does not build: score
    0 and the end of the build's output."""
    with open(log, encoding="utf-8", errors="replace") as f:
        tail = "".join(f.readlines()[-40:])
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"score": 0, "output": "The submission does not build:\n" + tail,
                   "output_format": "text", "tests": []}, f, indent=2)


def grade_class(lab, directory, jobs, out, csv_path):
    """Grade every subdirectory of directory, jobs at a time; print the table
    and write the CSV. Returns the rows."""
    names = sorted(d for d in os.listdir(directory)
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
    if not names:
        sys.exit(f"classgrade: no submissions (subdirectories) in {directory}")
    os.makedirs(out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="rvexo-class-")

    def one(name):
        """Grade submission name in its own scratch tree."""
        row = grade_one(lab, os.path.join(directory, name), os.path.join(scratch, name),
                        os.path.join(out, name + ".log"), os.path.join(out, name + ".json"),
                        os.path.join(out, name + ".gradescope.json"))
        shutil.rmtree(os.path.join(scratch, name), ignore_errors=True)
        print(f"  {name}: {row['score']}/{row['max_score']} ({row['status']}, "
              f"{row['seconds']}s)", flush=True)
        return row

    print(f"grading lab {lab}: {len(names)} submissions, {jobs} at a time")
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(one, names))
    shutil.rmtree(scratch, ignore_errors=True)
    fields = ["name", "score", "max_score", "passed", "failed", "earlier_failed", "seconds",
              "status"]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    width = max(len(r["name"]) for r in rows + [{"name": "submission"}])
    print(f"\n{'submission':<{width}}  score   tests  earlier  status")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['score']:>3}/{r['max_score']:<3} "
              f"{r['passed']:>2}/{r['passed'] + r['failed']:<2}  "
              f"{'-' if not r['earlier_failed'] else r['earlier_failed']:>7}  {r['status']}")
    print(f"\nscores: {csv_path}; logs and results: {out}")
    return rows


def write_autograder(lab, path):
    """The zip for Gradescope: setup.sh and run_autograder at its root,
    LAB naming the lab, the reference tree's files under rvexo/."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("setup.sh", "run_autograder"):
            z.write(os.path.join(HERE, "autograder", name), name)
        z.writestr("LAB", lab + "\n")
        for rel in handout.tracked_files():
            z.write(os.path.join(TOP, rel), "rvexo/" + rel)
    print(f"autograder for lab {lab}: {path} (upload it; choose the Ubuntu 24.04 image)")


def main(argv):
    """Parse argv; grade a class or one submission."""
    p = argparse.ArgumentParser(prog="classgrade.py", description="Grade a class's submissions.")
    p.add_argument("lab")
    p.add_argument("dir", nargs="?", help="a directory of submissions, one subdirectory each")
    p.add_argument("-j", type=int, default=2, metavar="N", help="submissions at once (default 2)")
    p.add_argument("--out", metavar="OUT", help="where logs and results go")
    p.add_argument("--csv", metavar="FILE", help="where the scores go (default OUT/scores.csv)")
    p.add_argument("--one", metavar="SUBMISSION", help="grade this one submission")
    p.add_argument("--gradescope", metavar="FILE", help="with --one: Gradescope's results.json")
    p.add_argument("--autograder", metavar="ZIP", help="write Gradescope's autograder zip")
    args = p.parse_args(argv)
    if args.lab not in handout.student_labs():
        sys.exit(f"classgrade: no lab named {args.lab!r}; the labs are: "
                 f"{' '.join(handout.student_labs())}")
    if args.autograder:
        write_autograder(args.lab, os.path.abspath(args.autograder))
        return 0
    if args.one:
        if not args.gradescope or args.dir:
            sys.exit("classgrade: --one SUBMISSION goes with --gradescope FILE and no DIR")
        with tempfile.TemporaryDirectory(prefix="rvexo-one-") as tmp:
            row = grade_one(args.lab, args.one, os.path.join(tmp, "tree"),
                            os.path.join(tmp, "log"), os.path.join(tmp, "results.json"),
                            args.gradescope)
            with open(os.path.join(tmp, "log"), encoding="utf-8", errors="replace") as f:
                sys.stdout.write(f.read())
        print(f"{row['name']}: {row['score']}/{row['max_score']} ({row['status']})")
        return 0
    if not args.dir:
        p.error("give a directory of submissions, or --one SUBMISSION")
    out = os.path.abspath(args.out or os.path.join(TOP, "build", f"class-{args.lab}"))
    grade_class(args.lab, os.path.abspath(args.dir), max(1, args.j), out,
                os.path.abspath(args.csv or os.path.join(out, "scores.csv")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
