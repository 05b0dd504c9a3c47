#!/usr/bin/env python3
"""stress: look for flaky tests by running the test suite again and again on
a busy machine.

    python3 labs/stress.py [-n RUNS] [--hogs K] [LAB] [TEST...]
    make stress N=20 [LAB=..] [T=..]

What it promises:
- It starts K busy-loop processes beside the tests (default: one per
  core), so that every test runs on a loaded host, and stops them at the
  end, also when interrupted.
- It runs ./grade-lab --no-build (with LAB and TEST filters, if given)
  RUNS times (default 10), one after the other, and prints one line per
  run: its number, how many passed and failed, which failed, its time.
- Each run's output and the logs of its failed tests (not their disk
  images) stay in build/stress/run-N/; the directory is emptied first.
- At the end it lists every test that failed even once, with how many
  runs it failed in and where its logs are, and the figures of the whole
  run: runs, tests per run, hogs, total and slowest run time.
- Exit status: 0 if no test ever failed, 1 if one did, 2 if a run could
  not grade at all (the build is broken, say).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "stress")


def start_hogs(k):
    """Start k processes that spin forever, each in its own session."""
    spin = [sys.executable, "-c", "while True: pass"]
    return [subprocess.Popen(spin, start_new_session=True) for _ in range(k)]


def stop_hogs(hogs):
    """Kill the hogs started by start_hogs and reap them."""
    for p in hogs:
        p.kill()
    for p in hogs:
        p.wait()


def one_run(n, words):
    """Run the grader once into OUT/run-n; return (status, results, seconds):
    results are the --json records ([] if none were written)."""
    where = os.path.join(OUT, f"run-{n}")
    os.makedirs(where)
    json_path = os.path.join(where, "results.json")
    argv = [sys.executable, os.path.join(ROOT, "grade-lab"), "--no-build", "--json", json_path,
            "--log-dir", where, *words]
    start = time.monotonic()
    with open(os.path.join(where, "output"), "w") as out:
        status = subprocess.call(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    for name in os.listdir(where):
        if name.endswith(".img"):  # a failed test's disk: 16 MiB, rarely wanted
            os.remove(os.path.join(where, name))
    try:
        with open(json_path) as f:
            results = json.load(f)["results"]
    except (OSError, ValueError, KeyError):
        results = []
    return status, results, seconds


def main():
    """Parse the options, run the suite repeatedly beside the hogs, report."""
    p = argparse.ArgumentParser(prog="stress", description="Run the tests repeatedly under load.")
    p.add_argument("-n", "--runs", type=int, default=10, help="how many runs (default 10)")
    p.add_argument("--hogs", type=int, default=os.cpu_count() or 1,
                   help="busy-loop processes beside the tests (default: one per core)")
    p.add_argument("words", nargs="*", metavar="LAB|TEST", help="passed on to grade-lab")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    shutil.rmtree(OUT, ignore_errors=True)
    failed, tests, times, broken = {}, 0, [], 0
    hogs = start_hogs(args.hogs)
    try:
        for n in range(1, args.runs + 1):
            status, results, seconds = one_run(n, args.words)
            times.append(seconds)
            tests = max(tests, len(results))
            bad = [r for r in results if r["status"] == "fail"]
            for r in bad:
                name = f"{r['lab']}/{r['name']}"
                failed.setdefault(name, []).append(n)
            if status not in (0, 1) or not results:
                broken += 1
                print(f"run {n}/{args.runs}: the grader could not run (status {status}); "
                      f"see {os.path.relpath(os.path.join(OUT, f'run-{n}', 'output'))}", flush=True)
                continue
            names = " ".join(f"{r['lab']}/{r['name']}" for r in bad)
            print(f"run {n}/{args.runs}: {len(results) - len(bad)} passed, {len(bad)} failed"
                  f"{': ' + names if bad else ''} ({seconds:.0f}s)", flush=True)
    except KeyboardInterrupt:
        print("stress: interrupted", flush=True)
    finally:
        stop_hogs(hogs)
    runs = len(times)
    print(f"\n{runs} runs of {tests} tests beside {args.hogs} busy loops: "
          f"{sum(times):.0f}s in all, slowest run {max(times, default=0):.0f}s")
    for name, which in sorted(failed.items(), key=lambda kv: -len(kv[1])):
        log = os.path.join("build", "stress", "run-*", name.replace("/", "-") + ".log")
        shown = ",".join(map(str, which[:10])) + (",..." if len(which) > 10 else "")
        print(f"  {name}: failed {len(which)} of {runs} (runs {shown}); logs {log}")
    if not failed and not broken:
        print("no test failed")
    return 2 if broken else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
