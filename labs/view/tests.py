# Suite view: the live view of the machine (labs/view.py and its page,
# labs/view/), tested in a real browser: headless Chromium loads the page
# while the machine runs, and what it RENDERS (the DOM after the page's
# script ran: chromium --dump-dom) is compared with what the machine's own
# programs say at its shell in the same boot (ps, free), and with the
# exported tables read independently (a page-table walk against the page
# map). Not a lab: nothing here is a student's to write.
#
# Without Chromium the tests are skipped, saying so; under CI (the CI
# environment variable set, as .ci/run's machines have) a missing Chromium
# is a failure: .ci/run installs it.

import html
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import bench
import gradelib
from gradelib import *

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
UAREA = 0x3FFFFFF000  # where ExOS maps an environment's u-area (kernel/abi.h)


def _browser(t):
    """The Chromium to run; skips the test (fails it under CI) if none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        t.fail("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
    t.skip("chromium is not installed (apt-get install chromium): the page is not tested in a browser")


class Viewed:
    """A machine booted under labs/view.py on this test's disk: its
    console typed at and read, its page served on a free port."""

    def __init__(self, t, extra_args=(), browser=True):
        """Boot with extra_args added to QEMU's; browser: the test needs
        Chromium (it is skipped without it)."""
        self.t, self.browser = t, browser and _browser(t)
        argv = [sys.executable, os.path.join(ROOT, "labs", "view.py"), "--port", "0",
                "--gdb", t._runner.gdb_program(), "--kernel", os.path.join(ROOT, "build/kernel/kernel"),
                "--"] + t._with_disk(t._runner.qemu_command()) + list(extra_args)
        self.started = time.monotonic()
        self.proc = gradelib._Process(argv, cwd=ROOT, echo=t._runner.echo)
        self.deadline = self.started + t._limit(None)
        self.mark = 0
        self.port = int(self.wait(r"view: http://127\.0\.0\.1:(\d+)/").group(1))
        self.profile = tempfile.mkdtemp(prefix="rvexo-chromium-")

    def wait(self, regex):
        """The match of regex in the console output after the last one
        waited for; fails the test at the time limit."""
        rx = re.compile(regex, re.M)
        while True:
            m = rx.search(self.proc.output(), self.mark)
            if m:
                self.mark = m.end()
                return m
            if self.proc.exited() or time.monotonic() > self.deadline:
                self.t.fail(f"never saw /{regex}/ on the console")
            time.sleep(0.05)

    def type(self, text):
        self.proc.write(text)

    def state(self):
        """A snapshot from the server (/state). Raises OSError if no whole
        answer comes (the server ends with the machine, even mid-answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/state", timeout=30) as r:
                return json.load(r)
        except http.client.HTTPException as e:
            raise OSError(f"an incomplete answer: {e!r}") from e

    def until(self, what, cond, seconds=20):
        """Poll /state until cond(state) holds, for at most seconds; that state."""
        deadline = min(self.deadline, time.monotonic() + seconds * self.t._runner.scale)
        while True:
            try:
                s = self.state()
            except OSError as e:
                self.t.fail(f"the server did not answer while waiting for {what} "
                            f"(has the machine ended?): {e}")
            if not s.get("booting") and cond(s):
                return s
            if time.monotonic() > deadline:
                self.t.fail(f"the server did not show {what} within {seconds} s")
            time.sleep(0.1)

    def dom(self, fragment=""):
        """The page's DOM as Chromium renders it after 2 s (virtual time)
        of its script running."""
        argv = [self.browser, "--headless", "--no-sandbox", "--disable-gpu",
                f"--user-data-dir={self.profile}", "--virtual-time-budget=2000", "--dump-dom",
                f"http://127.0.0.1:{self.port}/{fragment}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if "<body" not in r.stdout:
            self.t.fail(f"chromium rendered nothing (status {r.returncode}): {r.stderr[-500:]}")
        return r.stdout

    def close(self):
        """Stop the machine and the server; log the console."""
        status = self.proc.stop()
        shutil.rmtree(self.profile, ignore_errors=True)
        self.t._record(self.proc, "exit", status, time.monotonic() - self.started,
                       self.t._limit(None), None)


def rendered_envs(dom):
    """{id: {name, parent, pages, status, slices}} of the environments the page shows."""
    envs = {}
    for attrs in re.findall(r'<li class="env[^"]*"([^>]*)>', dom):
        a = {k: html.unescape(v) for k, v in re.findall(r'data-(\w+)="([^"]*)"', attrs)}
        envs[int(a["id"], 16)] = {"name": a["name"], "parent": int(a["parent"], 16),
                                  "pages": int(a["pages"]), "status": a["status"],
                                  "slices": int(a["slices"])}
    return envs


def rendered_counts(dom):
    """{all, free, user, ...}: the page counts the page shows."""
    return {k: int(v) for k, v in re.findall(r'<td id="count-(\w+)">(\d+)</td>', dom)}


def rendered_number(t, dom, ident):
    m = re.search(rf'id="{ident}" data-n="(\d+)"', dom)
    if not m:
        t.fail(f"the page shows no #{ident}: {dom[:300]!r}")
    return int(m.group(1))


def ps_table(text):
    """{id: (parent, pages, name)} of a ps listing."""
    return {int(i, 16): (int(p, 16), int(n), name)
            for i, p, n, name in re.findall(r"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+\w+\s+(\d+) (\S+)$",
                                            text, re.M)}


@test(points=5, timeout=150)
def page_shows_what_ps_and_free_say(t):
    """Chromium renders the environments ps lists (id, name, parent, pages)
    and the page counts free prints, refreshes the page by itself, and
    shows no stale environment once it has gone."""
    v = Viewed(t)
    try:
        v.wait(r"^\$ ")
        # sleep 0.1 first: its program is in the file server's cache before ps.
        v.type("sleep 0.1; ps; free; ps; sleep 20\n")
        v.wait(r"PID PARENT")
        m = v.wait(r"in use: (\d+) user, (\d+) page tables, (\d+) u-areas, (\d+) kernel")
        free_text = v.proc.output()[:m.end()]
        total, nfree = map(int, re.findall(r"pages: (\d+) in all, (\d+) free", free_text)[-1])
        v.wait(r"PID PARENT")
        ps = ps_table(v.wait(r"(?s).*? ps\n").group(0))
        sleeping = v.until("the sleep program", lambda s: any(
            e["name"] == "sleep" for e in s["envs"]) and not any(e["name"] == "ps" for e in s["envs"]))
        dom = v.dom()
        shown = rendered_envs(dom)
        t.check(shown, "the page shows no environment")
        for envid, (parent, pages, name) in ps.items():
            if name == "ps":
                t.check(envid not in shown, f"env {envid:x} (ps) is shown after it ended: stale")
                continue
            e = shown.get(envid)
            if t.check(e is not None, f"ps lists env {envid:x} ({name}); the page does not"):
                t.check((e["name"], e["parent"], e["pages"]) == (name, parent, pages),
                        f"env {envid:x}: ps says {name}, parent {parent:x}, {pages} pages; "
                        f"the page shows {e['name']}, parent {e['parent']:x}, {e['pages']} pages")
        sleeper = [e for e in sleeping["envs"] if e["name"] == "sleep"][0]
        t.check(shown.get(sleeper["id"], {}).get("name") == "sleep",
                f"the page does not show sleep (env {sleeper['id']:x}), started after ps")
        counts = rendered_counts(dom)
        t.check(counts.get("all") == total, f"free says {total} pages in all; the page {counts.get('all')}")
        # free ran then, sleep runs now: the free pages differ by what the two hold.
        t.check(counts.get("free") is not None and abs(counts["free"] - nfree) < 128,
                f"free says {nfree} pages free; the page {counts.get('free')}")
        t.check(sum(v for k, v in counts.items() if k != "all") == total,
                f"the page's counts by type do not add up to {total}: {counts}")
        t.check(rendered_number(t, dom, "refreshes") >= 2,
                "the page did not refresh itself within 2 s")
        first = rendered_number(t, dom, "snapshot")

        v.wait(r"^\$ ")  # sleep ended: the shell waited for it
        dom = v.dom()
        shown = rendered_envs(dom)
        t.check(sleeper["id"] not in shown, f"the page still shows sleep (env {sleeper['id']:x}), "
                "which has ended: stale")
        t.check(rendered_number(t, dom, "snapshot") > first, "no new snapshot since the first page")
    finally:
        v.close()


@test(points=5, timeout=150)
def stride_demo_and_page_tables(t):
    """During the stride demo the page shows the slices owned by stride,
    one marked running; #env=N shows N's page tables, whose page-table
    pages are exactly those the page map says N owns, and its u-area
    mapped read-only at UAREA."""
    v = Viewed(t)
    try:
        v.wait(r"^\$ ")
        v.type("stride 30000\n")  # long enough to outlast the test
        s = v.until("stride owning the time slices", lambda s: any(
            e["name"] == "stride" and e["slices"] > 0 for e in s["envs"]))
        parent = [e for e in s["envs"] if e["name"] == "stride" and e["slices"] > 0][0]
        dom = v.dom(f"#env={parent['id']:x}")
        owners = re.findall(r'<span class="slice( current)?" data-owner="(\w+)"', dom)
        t.check(len(owners) == len(s["slices"]),
                f"the page shows {len(owners)} slices, not {len(s['slices'])}")
        t.check(sum(1 for _, o in owners if int(o, 16) == parent["id"]) == parent["slices"],
                f"the page's slices owned by stride ({parent['id']:x}) are not the "
                f"{parent['slices']} it holds")
        t.check(sum(1 for c, _ in owners if c) == 1, "no slice (or more than one) marked running")
        shown = rendered_envs(dom)
        kids = [e for e in shown.values() if e["parent"] == parent["id"] and e["name"] == "stride"]
        t.check(len(kids) >= 3, f"the page shows {len(kids)} stride children, not 3 or more")

        m = re.search(r"(\d+) page-table pages", dom)
        t.check(m, "the page shows no page tables for #env=" + f"{parent['id']:x}")
        ranges = re.findall(r"<tr><td>([0-9a-f]+)\.\.[0-9a-f]+</td><td>(\d+)</td><td>([0-9a-f]+)"
                            r"(?:\.\.[0-9a-f]+)?</td><td>([-rwxucC]+)</td></tr>", dom)
        t.check(ranges, "the page shows no mappings")
        uarea = [r for r in ranges if int(r[0], 16) == UAREA]
        t.check(uarea and int(uarea[0][2], 16) == parent["uarea_ppn"] and uarea[0][3] == "r--u",
                f"the u-area (page {parent['uarea_ppn']:x}) is not shown read-only at {UAREA:x}: {uarea}")
        s = v.state()
        tables = sum(1 for o, ty in zip(s["owners"], s["types"]) if o == parent["id"] and ty in (3, 4, 5))
        walked = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{v.port}/env?id={parent['id']}", timeout=30))
        t.check(m and int(m.group(1)) == len(walked["tables"]) == tables,
                f"the walk found {len(walked['tables'])} page-table pages, the page shows "
                f"{m and m.group(1)}; the page map gives stride {tables}")
    finally:
        v.close()


@test(points=5, timeout=240)
def reading_does_not_disturb_the_machine(t):
    """exobench under -icount gives the same exact instruction counts
    while the view's server takes snapshot after snapshot as without it:
    reading the tables runs no code in the machine. (Under -icount a
    stop and continue would not change the counts either: that the reader
    issues none is labs/view.py's own claim, pmemsave only.)"""
    # Rows that wait for the disk (fork-exec-wait, file-read-1mib) are left
    # out: their counts vary from boot to boot by themselves (by 0.5% seen).
    rows = ("null-syscall pte-write demand-zero-fault pct-roundtrip pipe-roundtrip fork-exit-wait "
            "fork-1mib-exit-wait appel-prot100 rpc-roundtrip directed-yield slice-switch")
    # -snapshot: both runs start from the same disk (exobench writes files).
    args = ONE_HART + ["-icount", "shift=0", "-snapshot", "-append",
                       f"init=exobench bench=quick {rows}"]
    alone = t.qemu(bootargs=f"init=exobench bench=quick {rows}",
                   extra_args=ONE_HART + ["-icount", "shift=0", "-snapshot"])
    t.expect(alone, r"^exobench: done$")
    v = Viewed(t, args, browser=False)
    snapshots, seconds = 0, 0.0
    try:
        while not v.proc.exited() and time.monotonic() < v.deadline:
            try:
                s = v.state()
            except OSError:
                break  # the machine powered off, and the server with it
            if not s.get("booting"):
                snapshots, seconds = snapshots + 1, max(seconds, s["seconds"])
    finally:
        v.close()
    viewed = v.proc.output()
    t.expect(viewed, r"^exobench: done$")
    # How many snapshots fit in the run depends on the host's speed (a
    # snapshot took 20 ms idle, 600 ms busy): one is what the claim needs.
    t.check(snapshots >= 1, "no snapshot was taken while exobench ran")
    t.note(f"{snapshots} snapshots, the longest {seconds * 1000:.0f} ms")
    figures = lambda out: {r["name"]: (r["per_op"], r["min"], r["max"])
                           for r in bench.parse(out)["rows"] if r["measured"]}
    a, b = figures(alone), figures(viewed)
    t.check(len(a) == len(rows.split()), f"rows measured alone: {sorted(a)}")
    for name in a:
        t.check(a[name] == b.get(name), f"{name}: {a[name]} alone, {b.get(name)} with the view "
                "reading (median, min, max instructions per operation)")


# The demos at the view pace (demo -vN, user/demo.h: each state worth
# seeing held N seconds, machine time; without -icount, as here, about host
# time): long enough for Chromium to load and render the page during a hold.
PACE = 12


def rendered_revocations(dom):
    """[[environment, asked for, deadline, repossessed]] of the page's
    revocation table (its rows of cells)."""
    m = re.search(r'<table id="revocations">(.*?)</table>', dom, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1) if m else "", re.S)
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows]


@test(points=5, timeout=150)
def revoke_demo_shows_its_revocation(t):
    """The revoke demo at the view pace: while it holds with a revocation
    pending, the page shows the ignoring child asked for 10 pages, its
    deadline still ahead; while it holds after the deadline, the page
    shows that child's repossession vector, the very pages the child prints
    from its u-area, and the demo's environments marked as the demo's."""
    v = Viewed(t, ["-append", f"init=demo -v{PACE} revoke"])
    try:
        v.wait(r"^revoke: holding for the view \(\d+ s\): the ignoring child's revocation pending")
        ignoring = v.until("the ignoring child", lambda s: any(
            e["name"] == "ignoring" for e in s["envs"]))
        child = [e for e in ignoring["envs"] if e["name"] == "ignoring"][0]["id"]
        dom = v.dom()
        rows = {r[0]: r for r in rendered_revocations(dom) if len(r) == 4}
        row = rows.get(f"{child:x} ignoring")
        t.check(row is not None, f"the revocation table shows nothing for the ignoring child "
                f"({child:x}) while its revocation is pending: {list(rows.values())}")
        if row:
            t.check(row[1] == "pages 10" and re.search(r"\(in about \d+ ms\)$", row[2]),
                    f"the ignoring child's row does not show 10 pages asked, the deadline ahead: {row}")
        demo_envs = re.findall(r'<li class="env[^"]* demo"[^>]*data-name="(\w+)"', dom)
        t.check({"demo_revoke", "cooperative", "ignoring"} <= set(demo_envs),
                f"the demo's environments are not marked as the demo's: {demo_envs}")

        vector = v.wait(r"^  ignoring: no answer by the deadline; repossession vector "
                        r"\(\d+ entries\):((?: [0-9a-f]+)+)$").group(1).split()
        v.wait(r"^revoke: holding for the view \(\d+ s\): the ignoring child's repossession vector")
        dom = v.dom()
        rows = {r[0]: r for r in rendered_revocations(dom) if len(r) == 4}
        row = rows.get(f"{child:x} ignoring")
        t.check(row is not None and row[3].split() == vector,
                f"the page's repossession vector for the ignoring child is not the one it "
                f"printed ({' '.join(vector)}): {row}")
    finally:
        v.close()


@test(points=5, timeout=150)
def bindings_demo_shows_the_victims_tables(t):
    """The bindings demo at the view pace: while it holds, #env=N of its
    victim child shows the victim's page tables mapping the page the demo
    tried to reach (rw, user) at the region it attacked, and the page map
    gives that page to the victim."""
    v = Viewed(t, ["-append", f"init=demo -v{PACE} bindings"])
    try:
        m = v.wait(r"^bindings: holding for the view \(\d+ s\): our page ([0-9a-f]+) at "
                   r"([0-9a-f]+); the victim \(([0-9a-f]+)\) maps its page ([0-9a-f]+) there$")
        va, victim, page = (int(x, 16) for x in m.group(2, 3, 4))
        s = v.until("the victim", lambda s: any(e["id"] == victim for e in s["envs"]))
        dom = v.dom(f"#env={victim:x}")
        shown = rendered_envs(dom)
        parent = [e["id"] for e in s["envs"] if e["name"] == "demo_bindings"]
        t.check(shown.get(victim, {}).get("name") == "victim" and
                [shown[victim]["parent"]] == parent,
                f"the page does not show the victim {victim:x}, made by demo_bindings "
                f"{parent}: {shown.get(victim)}")
        t.check(re.search(rf'<span id="mappings-title">of {victim:x} victim</span>', dom),
                f"#env={victim:x} does not show the victim's page tables")
        ranges = re.findall(r"<tr><td>([0-9a-f]+)\.\.[0-9a-f]+</td><td>(\d+)</td><td>([0-9a-f]+)"
                            r"(?:\.\.[0-9a-f]+)?</td><td>([-rwxucC]+)</td></tr>", dom)
        t.check((f"{va:x}", "1", f"{page:x}", "rw-u") in ranges,
                f"the victim's tables as shown do not map page {page:x} at {va:x}, rw-u: {ranges}")
        m = re.search(r"(\d+) page-table pages", dom)
        t.check(m and int(m.group(1)) >= 3,
                f"the victim's page-table pages shown: {m and m.group(1)}, not its root and two more")
        i = page - s["base_ppn"]
        t.check(s["owners"][i] == victim and s["types"][i] == 2,
                f"the page map does not give page {page:x} to the victim as a user page")
    finally:
        v.close()
