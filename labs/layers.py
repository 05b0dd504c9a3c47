#!/usr/bin/env python3
"""layers.py: check that every arrow of ExOS points down.

    python3 labs/layers.py [--nm NM] [--readme FILE] [OBJECT...]
    (what `make layers` runs; with no objects, build/ulib/*.o)

It reads the layering of ExOS from the README's ExOS section: the list
after the line "ExOS is layered, bottom to top:", one item a layer
("1. " or "- "), each naming its files in backquotes (`fork.c`,
`context.S`). It takes the
file-level call graph from the built objects: the riscv64 `nm` of each
object says which symbols the file defines and which it uses (a call or a
reference to data alike); a file uses another if it uses a symbol the
other defines. Then it reports, with the symbols involved:
  - every use of a file in a higher layer (a lower piece calling a higher
    one: it should offer a hook the higher one registers instead);
  - every circle of files that spans more than one layer (files of one
    layer are one piece, read together: an assembly entry and its C code
    may call each other);
  - every object no layer names, and every file a layer names that was
    not built.
Exit status 0 if there is none of these, 1 if there is any, 2 if the
objects or the README cannot be read. Standard library only.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADING = "ExOS is layered, bottom to top:"
DEFINED = set("TDBRGSCV")  # nm's letters for a symbol a file defines (W, weak, too)


def read_layers(readme):
    """The layers, bottom first, as (name, [file stems]) from the list that
    follows HEADING: one item a layer ("1. " or "- "), its files in
    backquotes; an item may go on over indented lines."""
    with open(readme) as f:
        text = f.read()
    at = text.find(HEADING)
    if at < 0:
        raise ValueError(f"{readme}: no line '{HEADING}'")
    layers, item = [], None
    for line in text[at + len(HEADING):].splitlines()[1:]:
        if line.startswith("- ") or re.match(r"^\d+\. ", line):
            item = line.split(" ", 1)[1]
            layers.append(item)
        elif item is not None and line.startswith(" ") and line.strip():
            layers[-1] += " " + line.strip()
        elif layers:
            break  # the list has ended
    result = []
    for item in layers:
        name = re.sub(r"\*\*(.*?)\*\*.*", r"\1", item).strip() or item
        files = [os.path.splitext(os.path.basename(f))[0] for f in re.findall(r"`([^`]+\.[cS])`", item)]
        result.append((name, files))
    if not result:
        raise ValueError(f"{readme}: the list after '{HEADING}' is empty")
    return result


def find_nm():
    """The nm the Makefile uses (its NM, from its tool prefix)."""
    p = subprocess.run(["make", "-s", "--no-print-directory", "--eval", "print-nm: ; @echo $(NM)",
                        "print-nm"], cwd=ROOT, capture_output=True, text=True)
    nm = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if p.returncode != 0 or not nm:
        raise ValueError("cannot ask make for its nm: " + (p.stderr.strip() or "no output"))
    return nm


def symbols(nm, obj):
    """(defined, used): the global symbols the object defines and uses."""
    p = subprocess.run([nm, obj], capture_output=True, text=True)
    if p.returncode != 0:
        raise ValueError(f"{nm} {obj}: {p.stderr.strip()}")
    defined, used = set(), set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and (parts[1] in DEFINED or parts[1] == "W"):
            defined.add(parts[2])
    return defined, used


def call_graph(nm, objects):
    """{(user, definer): sorted symbols}: which file uses which, by symbol."""
    owner, uses = {}, {}
    for obj in objects:
        stem = os.path.splitext(os.path.basename(obj))[0]
        defined, used = symbols(nm, obj)
        for s in defined:
            owner[s] = stem
        uses[stem] = used
    edges = {}
    for stem, used in uses.items():
        for s in used:
            if s in owner and owner[s] != stem:
                edges.setdefault((stem, owner[s]), []).append(s)
    return set(uses), {e: sorted(s) for e, s in edges.items()}


def circles(files, edges):
    """The strongly connected components of more than one file (Tarjan's
    algorithm, iteratively)."""
    succ = {f: sorted(b for (a, b) in edges if a == f) for f in files}
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    for start in sorted(files):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter[0]
                counter[0] += 1
                stack.append(v)
                on.add(v)
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if w not in index:
                    work.append((w, 0))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return found


def check(layers, files, edges):
    """The problems found, as lines of text."""
    level = {}
    for i, (_, stems) in enumerate(layers):
        for s in stems:
            level[s] = i
    problems = []
    for f in sorted(files - set(level)):
        problems.append(f"{f}: in no layer (add it to the README's list)")
    for s in sorted(set(level) - files):
        problems.append(f"{s}: named by layer '{layers[level[s]][0]}' but not built")
    for (a, b), syms in sorted(edges.items()):
        if a in level and b in level and level[a] < level[b]:
            problems.append(f"upward: {a} (layer {level[a] + 1}, {layers[level[a]][0]}) uses "
                            f"{b} (layer {level[b] + 1}, {layers[level[b]][0]}): {' '.join(syms)}")
    for comp in circles(files, edges):
        if len({level.get(f, -1) for f in comp}) > 1:
            ring = shortest_circle(comp, edges, level)
            arrows = [f"{a} -> {b} ({' '.join(edges[(a, b)])})" for a, b in zip(ring, ring[1:])]
            problems.append(f"circle of {len(comp)} files ({', '.join(comp)}), one of them:\n    " +
                            "\n    ".join(arrows))
    return problems


def shortest_circle(comp, edges, level):
    """A shortest circle inside the component comp, through an upward use
    if there is one: [a, b, ..., a]."""
    inside = [(a, b) for (a, b) in sorted(edges) if a in comp and b in comp]
    up = [(a, b) for (a, b) in inside if level.get(a, -1) < level.get(b, -1)]
    a, b = (up or inside)[0]
    back = {b: None}  # breadth first from b back to a
    queue = [b]
    while a not in back:
        v = queue.pop(0)
        for (x, y) in inside:
            if x == v and y not in back:
                back[y] = v
                queue.append(y)
    path = [a]
    while path[-1] != b:
        path.append(back[path[-1]])
    return [a] + path[::-1]


def main():
    ap = argparse.ArgumentParser(description="Check that ExOS's files call only down its layers.")
    ap.add_argument("--nm", help="the riscv64 nm (default: the Makefile's)")
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    ap.add_argument("objects", nargs="*", help="ExOS's objects (default: build/ulib/*.o)")
    args = ap.parse_args()
    objects = args.objects or sorted(glob.glob(os.path.join(ROOT, "build", "ulib", "*.o")))
    try:
        if not objects:
            raise ValueError("no objects: build first (make)")
        layers = read_layers(args.readme)
        files, edges = call_graph(args.nm or find_nm(), objects)
    except (OSError, ValueError) as e:
        print(f"layers: {e}", file=sys.stderr)
        return 2
    problems = check(layers, files, edges)
    for p in problems:
        print(p)
    print(f"layers: {len(files)} files in {len(layers)} layers, {len(edges)} uses between files: " +
          (f"{len(problems)} problems" if problems else "every arrow points down"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
