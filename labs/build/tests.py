# The build itself, on the host (no QEMU): the Makefile says nothing it
# should not whether or not the tools are there, `make
# compile_commands.json` gives an editor's clangd every C file with the
# flags the build compiles it with, and ExOS's files call only down the
# layers the README lists (`make layers`).

import glob
import json
import os
import shlex
import tempfile

from gradelib import *

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Goals as a student types them, printed with make -n (nothing is
# installed or run).
GOALS = [[], ["qemu"], ["test"], ["build/kernel/kernel"], ["doctor"], ["clean"]]
NO_QEMU = "QEMU=/nonexistent/qemu"  # a machine where a tool is missing


@test(points=5, timeout=60)
def makefile_quiet_without_tools(t):
    """With a tool missing, every goal parses without a make warning (the
    kernel once had two recipes: "overriding recipe for target
    'build/kernel/kernel'"), and a goal that installs the tools and runs
    again does so once: still missing after that, it says so instead of
    calling itself forever."""
    for argv in [["make", "-n", *goals] for goals in GOALS] + \
            [["make", "-n", NO_QEMU, *goals] for goals in GOALS]:
        out = t.run(argv, timeout=15)
        t.check(not out.timed_out, f"`{shlex.join(argv)}` did not end (make calling itself?)")
        t.check("warning:" not in out, f"`{shlex.join(argv)}` warned:\n" +
                "\n".join(l for l in out.splitlines() if "warning:" in l))
    out = t.run(["make", "-n", NO_QEMU, "qemu"], timeout=15)
    t.expect(out, r"^echo \"rvexo: missing: qemu-system-riscv64>=7\.2\"$",
             r"still missing after the installation: qemu-system-riscv64>=7\.2")


def compile_commands(t):
    """Write the database to a scratch file with labs/compile_commands.py
    (what make compile_commands.json runs); return its entries."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "compile_commands.json")
        out = t.run(["python3", "labs/compile_commands.py", path], timeout=60)
        if out.returncode != 0:
            t.fail(f"labs/compile_commands.py failed (status {out.returncode}):\n{out}")
        with open(path) as f:
            return json.load(f)


@test(points=5, timeout=120)
def compile_commands_for_editors(t):
    """compile_commands.json lists every C file of kernel/, ulib/, user/ and
    mkfs/, each as the build compiles it: the cross compiler with the
    kernel's flags (gp reserved, the include paths), xv6's own flags for
    XV6PROGS, the host compiler for mkfs; and its commands do compile."""
    entries = compile_commands(t)
    by_file = {}
    for e in entries:
        by_file.setdefault(e["file"], []).append(e)
        t.check(e["directory"] == ROOT, f"{e['file']}: directory {e['directory']}")
    sources = {os.path.relpath(f, ROOT) for d in ("kernel", "ulib", "user", "mkfs")
               for f in glob.glob(os.path.join(ROOT, d, "*.c"))}
    t.check(sources <= set(by_file), "missing: " + " ".join(sorted(sources - set(by_file))))
    for name in sorted(sources & set(by_file)):
        args = by_file[name][0]["arguments"]
        if name.startswith("mkfs/"):
            t.check("-ffixed-gp" not in args, f"{name}: built for the host, but has {args}")
            continue
        t.check(args[0].startswith("riscv64") and args[0].endswith("gcc"),
                f"{name}: compiler {args[0]}, not the cross GCC")
        want = ["-ffixed-gp", "-mno-relax", "-mcmodel=medany", "-I.", "-Iulib/xv6", "-c"]
        want += ["-gdwarf-2", "-Wno-main"] if name == "user/t_xv6.c" else ["-Wextra", "-std=gnu11"]
        t.check(all(w in args for w in want),
                f"{name}: lacks {[w for w in want if w not in args]} of the build's flags")
    t.check(len(by_file.get("kernel/string.c", [])) == 2,
            "kernel/string.c: the kernel's and ExOS's compilations should both be listed")
    # The commands are the build's: each compiles (into a scratch object).
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("kernel/main.c", "ulib/fork.c", "user/t_xv6.c", "mkfs/fsck.c"):
            args = list(by_file[name][0]["arguments"])
            args[args.index("-o") + 1] = os.path.join(tmp, "out")
            out = t.run(args, timeout=60)
            t.check(out.returncode == 0, f"{name}: its command failed:\n{out}")


@test(points=5, timeout=120)
def exos_layers(t):
    """Every call in ExOS points down the layers the README lists, with no
    circle (`make layers`, labs/layers.py over the built objects); and the
    check has teeth: with the README's list turned upside down, it reports
    upward calls and fails."""
    out = t.run(["make", "-s", "--no-print-directory", "layers"], timeout=100)
    t.check(out.returncode == 0, f"make layers failed (status {out.returncode}):\n{out}")
    t.expect(out, r"^layers: \d+ files in \d+ layers, \d+ uses between files: every arrow points down$")
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    head, _, rest = readme.partition("ExOS is layered, bottom to top:\n\n")
    items = rest[:rest.index("\n\n")].splitlines()
    flipped = head + "ExOS is layered, bottom to top:\n\n" + "\n".join(reversed(items)) + \
        rest[rest.index("\n\n"):]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "README.md")
        with open(path, "w") as f:
            f.write(flipped)
        out = t.run(["python3", "labs/layers.py", "--readme", path], timeout=60)
    t.check(out.returncode == 1 and "upward: libmain" in out,
            f"labs/layers.py passed a list upside down (status {out.returncode}):\n{out}")
