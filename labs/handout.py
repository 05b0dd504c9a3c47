#!/usr/bin/env python3
"""Make a lab handout: a copy of the repository with the students' part of
the code removed.

Code that a lab asks students to write is marked in the reference tree by
a line `// LAB fork: what to do` before it and a line `// END LAB fork`
after it (`#` instead of `//` in assembly, Python and Makefiles). For lab L
the handout keeps the solutions of the labs before L and removes the code
of L and of every later lab, leaving the opening marker as the instruction,
followed by a line `// Your code here.` A line `// HANDOUT: code` inside a
region gives the code the handout has in place of the solution, so that it
still compiles (e.g. `// HANDOUT: return 0;`); solutions keep it as a comment.

Usage: labs/handout.py LAB [OUTDIR]   (default OUTDIR: build/handout/LAB)
Only files tracked by git are copied, and not the wrong solutions
(labs/<lab>/wrong/).
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import LAB_ORDER  # noqa: E402

BEGIN = re.compile(r"^(\s*)(//|#) LAB (\w+):")
END = re.compile(r"^\s*(//|#) END LAB (\w+)\s*$")
STUB = re.compile(r"^(\s*)(//|#) HANDOUT: (.*)$")
WRONG = re.compile(r"^labs/[^/]+/wrong/")  # patches of wrong solutions, not handed out


def strip_file(text, removed_labs, path):
    """Return text with the bodies of marked regions for removed_labs replaced
    by a placeholder line. Raises ValueError on unbalanced markers."""
    out, open_lab, line_no = [], None, 0
    for line_no, line in enumerate(text.splitlines(keepends=True), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_lab:
                raise ValueError(f"{path}:{line_no}: LAB {begin.group(3)} inside LAB {open_lab}")
            open_lab = begin.group(3)
            out.append(line)
            if open_lab in removed_labs:
                out.append(f"{begin.group(1)}{begin.group(2)} Your code here.\n")
        elif end:
            if end.group(2) != open_lab:
                raise ValueError(f"{path}:{line_no}: END LAB {end.group(2)} without its LAB line")
            if open_lab not in removed_labs:
                out.append(line)
            open_lab = None
        elif open_lab in removed_labs and STUB.match(line):
            stub = STUB.match(line)
            out.append(f"{stub.group(1)}{stub.group(3)}\n")
        elif open_lab not in removed_labs:
            out.append(line)
    if open_lab:
        raise ValueError(f"{path}: LAB {open_lab} is never closed")
    return "".join(out)


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in LAB_ORDER:
        sys.exit(f"usage: handout.py LAB [OUTDIR]   (LAB is one of {' '.join(LAB_ORDER)})")
    lab = sys.argv[1]
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outdir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(top, "build", "handout", lab)
    removed = set(LAB_ORDER[LAB_ORDER.index(lab):])

    files = subprocess.run(["git", "ls-files"], cwd=top, check=True, capture_output=True,
                           text=True).stdout.split()
    shutil.rmtree(outdir, ignore_errors=True)
    stripped = 0
    for rel in files:
        if WRONG.match(rel):
            continue  # the wrong solutions: their context lines are the answers
        src, dst = os.path.join(top, rel), os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        try:
            with open(src, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        try:
            new = strip_file(text, removed, rel)
        except ValueError as err:
            sys.exit(f"handout.py: {err}")
        if new != text:
            with open(dst, "w", encoding="utf-8") as f:
                f.write(new)
            stripped += 1
    # Helpers the exercises will call are unused until the student writes
    # them: in the handout that is a warning, not an error.
    with open(os.path.join(outdir, "Makefile"), "a", encoding="utf-8") as f:
        f.write("\n# The handout: the exercises' helpers stay unused until written.\n"
                "CFLAGS += -Wno-error=unused-function -Wno-error=unused-variable "
                "-Wno-error=unused-but-set-variable -Wno-error=unused-parameter\n")
    print(f"handout for lab {lab}: {os.path.relpath(outdir)} ({stripped} files with code removed)")


if __name__ == "__main__":
    main()
