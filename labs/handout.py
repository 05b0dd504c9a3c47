#!/usr/bin/env python3
"""Make lab handouts: copies of the repository with the students' part of
the code removed, as a tree or as a student's git repository.

Code that a lab asks students to write is marked in the reference tree by
a line `// LAB fork: what to do` before it and a line `// END LAB fork`
after it (`#` instead of `//` in assembly, Python and Makefiles). For lab L
the handout keeps the solutions of the labs before L and removes the code
of L and of every later lab, leaving the opening marker as the instruction,
followed by a line `// Your code here.` A line `// HANDOUT: code` inside a
region gives the code the handout has in place of the solution, so that it
still compiles (e.g. `// HANDOUT: return 0;`); solutions keep it as a comment.
In a Markdown file (a lab's answers.md) the region is an answer: the
handout keeps only its HANDOUT line, e.g. `// HANDOUT: (your answer)`.

    handout.py LAB [DEST]        the tree for lab LAB, with the reference
                                 solutions of the earlier labs (default
                                 DEST: ../rvexo-LAB beside the repository)
    handout.py --repo DEST       a git repository for a class: one branch
                                 per lab (see labs/README.md)
    handout.py --solution LAB REPO
                                 add the branch solution/LAB to REPO (made
                                 by --repo): lab LAB's reference code, to
                                 merge for a student who is stuck
    handout.py --count           how many lines each lab's student writes
                                 (non-blank lines inside its regions of
                                 code, HANDOUT stubs and Markdown aside)

Only files tracked by git are copied, and not the labs' wrong solutions
(labs/*/wrong/), which would show the right ones. A handout never
overwrites: DEST must not exist or be an empty directory. Handouts are
made from the reference tree only; a handout tree carries labs/HANDOUT,
which says so.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import LAB_ORDER  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = os.path.join("labs", "HANDOUT")

BEGIN = re.compile(r"^(\s*)(//|#) LAB (\w+):")
END = re.compile(r"^\s*(//|#) END LAB (\w+)\s*$")
STUB = re.compile(r"^(\s*)(//|#) HANDOUT: (.*)$")
WRONG = re.compile(r"^labs/[^/]+/wrong/")

# Appended to a handout's Makefile: the exercises' helpers stay unused
# until the student writes the code that calls them.
MAKEFILE_NOTE = ("\n# The handout: the exercises' helpers stay unused until written.\n"
                 "CFLAGS += -Wno-error=unused-function -Wno-error=unused-variable "
                 "-Wno-error=unused-but-set-variable -Wno-error=unused-parameter\n")


class HandoutError(Exception):
    """Nothing was written: the message says why."""


def student_labs():
    """The labs students write, in order: those of LAB_ORDER with a
    handout (labs/<lab>/README.md)."""
    return [lab for lab in LAB_ORDER
            if os.path.isfile(os.path.join(TOP, "labs", lab, "README.md"))]


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
            if open_lab in removed_labs and not path.endswith(".md"):
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


def count_lines():
    """{lab: {path: lines}}: the non-blank lines of code inside each lab's
    regions, per file, HANDOUT stubs and Markdown files aside."""
    counts = {}
    for rel in tracked_files():
        if rel.endswith(".md") or not os.path.isfile(os.path.join(TOP, rel)):
            continue
        try:
            with open(os.path.join(TOP, rel), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError:
            continue
        lab = None
        for line in lines:
            if BEGIN.match(line):
                lab = BEGIN.match(line).group(3)
            elif END.match(line):
                lab = None
            elif lab and line.strip() and not STUB.match(line):
                files = counts.setdefault(lab, {})
                files[rel] = files.get(rel, 0) + 1
    return counts


def print_counts():
    """Print each student lab's line count, in order, and its files."""
    counts = count_lines()
    for lab in student_labs():
        files = counts.get(lab, {})
        where = ", ".join(f"{path} {n}" for path, n in sorted(files.items()))
        print(f"{lab:<9} {sum(files.values()):>4}  {where}")


def check_reference():
    """Refuse to work in a handout: only the reference tree has the code."""
    if os.path.exists(os.path.join(TOP, MARK)):
        with open(os.path.join(TOP, MARK), encoding="utf-8") as f:
            what = f.readline().strip()
        raise HandoutError(f"this tree is a handout ({what}); make handouts from the "
                           "reference tree, the one with the solutions")


def tracked_files():
    """The files git tracks in the reference tree (every file, build/ aside,
    if it is a copy without git's records), but the wrong solutions."""
    check_reference()
    if os.path.exists(os.path.join(TOP, ".git")):
        out = subprocess.run(["git", "ls-files", "-z"], cwd=TOP, check=True,
                             capture_output=True, text=True).stdout
        files = out.split("\0")
    else:
        files = _walk_files()
    return [rel for rel in files if rel and not WRONG.match(rel)]


def _walk_files():
    """Every file under TOP but build/ (a reference tree copied without git)."""
    files = []
    for d, subdirs, names in os.walk(TOP):
        if d == TOP:
            subdirs[:] = [s for s in subdirs if s not in ("build", ".git")]
        files += [os.path.relpath(os.path.join(d, f), TOP) for f in names]
    return sorted(files)


def write_tree(dest, removed, keep=lambda rel: True, mark=""):
    """Write the tracked files for which keep(rel) holds into dest, with
    the regions of the labs in removed stripped, the handout's Makefile
    note and the marker file labs/HANDOUT holding mark. Returns how many
    files lost code."""
    stripped = 0
    for rel in tracked_files():
        if not keep(rel):
            continue
        src, dst = os.path.join(TOP, rel), os.path.join(dest, rel)
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
            raise HandoutError(str(err))
        if new != text:
            with open(dst, "w", encoding="utf-8") as f:
                f.write(new)
            stripped += 1
    with open(os.path.join(dest, "Makefile"), "a", encoding="utf-8") as f:
        f.write(MAKEFILE_NOTE)
    with open(os.path.join(dest, MARK), "w", encoding="utf-8") as f:
        f.write(mark + "\n")
    return stripped


def check_dest(dest):
    """Refuse a destination that holds anything: a handout never
    overwrites (a student's work may be there)."""
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise HandoutError(f"{dest} exists and is not empty; nothing was written "
                           "(choose another destination, or move it away yourself)")


def check_lab(lab):
    """Refuse a lab that has no handout."""
    if lab not in student_labs():
        raise HandoutError(f"no lab named {lab!r}; the labs are: {' '.join(student_labs())}")


def make_handout(lab, dest):
    """Write the handout tree of lab into dest; return a line saying so."""
    check_lab(lab)
    check_dest(dest)
    removed = set(LAB_ORDER[LAB_ORDER.index(lab):])
    n = write_tree(dest, removed, mark=f"the handout of lab {lab}, with the reference "
                   "solutions of the labs before it")
    return f"handout for lab {lab}: {dest} ({n} files with code removed)"


def git(repo, *args, env=None, text=None):
    """Run git in repo with args; return its stdout, stripped."""
    p = subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True,
                       input=text, env={**os.environ, **(env or {})})
    return p.stdout.strip()


def labs_until(lab, last):
    """A keep() for write_tree: every file but those of the directories
    labs/<x>/ of the labs x after lab in LAB_ORDER. Labs outside LAB_ORDER
    come with the last lab, but for the live view's page (labs/view/ less
    its tests), which `make view` serves on every branch."""
    def keep(rel):
        """False for a file of a later lab's directory."""
        parts = rel.split("/")
        if len(parts) < 3 or parts[0] != "labs" or lab == last:
            return True
        if parts[1] == "view" and parts[2] != "tests.py":
            return True
        if parts[1] not in LAB_ORDER:
            return False
        return LAB_ORDER.index(parts[1]) <= LAB_ORDER.index(lab)
    return keep


def commit_tree(repo, tree_dir, parent, message):
    """Commit the files of tree_dir in repo (a temporary index) with parent
    (or none) and message; return the commit's id."""
    index = os.path.join(repo, ".git", "handout-index")
    env = {"GIT_INDEX_FILE": index, "GIT_WORK_TREE": tree_dir,
           "GIT_AUTHOR_NAME": "rvexo", "GIT_AUTHOR_EMAIL": "rvexo@localhost",
           "GIT_COMMITTER_NAME": "rvexo", "GIT_COMMITTER_EMAIL": "rvexo@localhost"}
    if os.path.exists(index):
        os.remove(index)
    git(repo, "--work-tree", tree_dir, "add", "-A", ".", env=env)
    tree = git(repo, "write-tree", env=env)
    os.remove(index)
    args = ["commit-tree", tree] + (["-p", parent] if parent else [])
    return git(repo, *args, "-F", "-", env=env, text=message + "\n")


def make_repo(dest):
    """Create the class repository in dest: branch <lab> for each lab, its
    starter committed on top of the previous lab's, so that a student
    merges their own earlier solutions forward."""
    labs = student_labs()
    check_dest(dest)
    removed = set(LAB_ORDER[LAB_ORDER.index(labs[0]):])
    os.makedirs(dest, exist_ok=True)
    git(dest, "init", "-q", "-b", labs[0])
    parent = None
    with tempfile.TemporaryDirectory() as tmp:
        for lab in labs:
            tree = os.path.join(tmp, lab)
            write_tree(tree, removed, keep=labs_until(lab, labs[-1]),
                       mark="a student's repository: every lab's code is yours to write")
            parent = commit_tree(dest, tree, parent,
                                 f"Lab {lab}: the starter (read labs/{lab}/README.md)")
            git(dest, "update-ref", f"refs/heads/{lab}", parent)
    git(dest, "checkout", "-q", "-f", labs[0])
    print(f"class repository: {dest}, branches {' '.join(labs)} (checked out: {labs[0]})")


def make_solution(lab, repo):
    """Add branch solution/<lab> to repo: lab's starter commit with lab's
    reference code filled in, nothing else."""
    check_lab(lab)
    labs = student_labs()
    try:
        starter = git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{lab}")
    except subprocess.CalledProcessError:
        raise HandoutError(f"{repo} has no branch {lab}: make it with --repo")
    removed = set(LAB_ORDER[LAB_ORDER.index(labs[0]):]) - {lab}
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(tmp, removed, keep=labs_until(lab, labs[-1]),
                   mark="a student's repository: every lab's code is yours to write")
        commit = commit_tree(repo, tmp, starter, f"Lab {lab}: the reference solution")
    git(repo, "update-ref", f"refs/heads/solution/{lab}", commit)
    print(f"{repo}: branch solution/{lab} (merge it to take lab {lab}'s reference code)")


def main(argv):
    """Parse argv and make what it asks for; exit 2 with a message on error."""
    usage = ("usage: handout.py LAB [DEST] | --repo DEST | --solution LAB REPO | --count\n"
             f"  the labs: {' '.join(student_labs())}")
    try:
        check_reference()
        if argv == ["--count"]:
            print_counts()
        elif len(argv) == 2 and argv[0] == "--repo":
            make_repo(os.path.abspath(argv[1]))
        elif len(argv) == 3 and argv[0] == "--solution":
            make_solution(argv[1], os.path.abspath(argv[2]))
        elif len(argv) in (1, 2) and not argv[0].startswith("-"):
            dest = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(TOP),
                                                               f"rvexo-{argv[0]}")
            print(make_handout(argv[0], os.path.abspath(dest)))
        else:
            sys.exit(usage)
    except HandoutError as e:
        print(f"handout: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
