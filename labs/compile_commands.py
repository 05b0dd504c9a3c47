#!/usr/bin/env python3
"""compile_commands.py: write compile_commands.json, the compilation
database an editor's clangd reads to navigate the kernel, ExOS and the
user programs with the flags they are built with.

    python3 labs/compile_commands.py [OUTPUT]    (what `make compile_commands.json` runs)

It asks make for the commands of a whole build without running them
(`make -n -B all`), keeps each one that compiles a C file of the
repository (one .c file outside build/, and -o), and writes an entry for
it: the repository as the directory, the file, its output and the
arguments exactly as the build gives them (the cross compiler with the
kernel's, ExOS's and the programs' CFLAGS, XV6PROGS' own; the host's for
mkfs and fsck). A file the build compiles twice (kernel/string.c: for the
kernel and for ExOS) has two entries. Assembly files are left
out: clangd reads C, and clangd 14 can spin on a .S file. The cross GCC's
flags that clang spells otherwise are mapped by the repository's .clangd. OUTPUT defaults to compile_commands.json in the repository.
Exit status 0, or 1 if make failed or found nothing to compile.
Standard library only.
"""

import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_SUFFIX = ".c"


def entries(make_output):
    """The compile_commands entries for the compiler commands among the
    lines make -n printed."""
    found = []
    for line in make_output.splitlines():
        try:
            args = shlex.split(line)
        except ValueError:
            continue  # a shell fragment that is not one command
        if "-o" not in args:
            continue
        sources = [a for a in args[1:] if a.endswith(SOURCE_SUFFIX) and not a.startswith("-")]
        if len(sources) != 1 or sources[0].startswith("build/"):
            continue
        found.append({"directory": ROOT, "file": sources[0],
                      "output": args[args.index("-o") + 1], "arguments": args})
    return found


def main(argv):
    """Write the database; returns the exit status."""
    out = argv[1] if len(argv) > 1 else os.path.join(ROOT, "compile_commands.json")
    make = subprocess.run(["make", "--no-print-directory", "-n", "-B", "all"], cwd=ROOT,
                          capture_output=True, text=True)
    found = entries(make.stdout) if make.returncode == 0 else []
    if not found:
        sys.stderr.write(make.stderr + make.stdout[-2000:])
        print("compile_commands: make -n -B all failed or compiled nothing", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        json.dump(found, f, indent=1)
        f.write("\n")
    print(f"compile_commands: {len(found)} compilations of "
          f"{len({e['file'] for e in found})} files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
