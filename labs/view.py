#!/usr/bin/env python3
"""A live view of the machine in the browser (`make view`, `make qemu VIEW=1`).

    python3 labs/view.py [--port N] [--gdb GDB] [--kernel KERNEL] -- QEMU ARGS...

boots QEMU with ARGS (the console stays in this terminal, interactive) and
serves a page on 127.0.0.1:N (0, the default: any free port; the address is
printed first) that draws the machine as it runs: the environments as a
tree, the physical page map, the time-slice vector, revocations and
repossessions, PCT calls, disk bindings and packet filters. Clicking an
environment shows its page tables.

Where the data comes from: the tables the kernel exports to every
environment (sysinfo, the environment table, the page table, the
time-slice vector, the u-areas), read from the guest's physical memory
through QEMU's QMP socket (a unix socket in a private directory) with
`pmemsave`, which copies guest memory to a file while the machine runs: the
machine is never stopped, so what it does is what it would do without the
view. A few facts the kernel keeps to itself are read the same way by
their symbols: the running slice (hart 0's clock), whom each environment calls
(struct env's waiting_on), the disk bindings and the packet filters. The
tables' addresses and the structures' layouts come from the kernel image's
debugging information (GDB, once at start), so nothing here repeats
kernel/abi.h. Page tables are walked in Sv39 from the environment's
exported root page.

A snapshot is not atomic: the machine runs while its tables are copied, so
two tables may disagree for an instant (as `ps` and `free` may). Each
snapshot says how long it took; the page refreshes no faster than twice
that.

HTTP: / (the page, labs/view/), /state (a snapshot, JSON),
/env?id=N (environment N's mappings, JSON). Only 127.0.0.1 is served.
Python standard library only.
"""

import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE_DIR = os.path.join(HERE, "view")
KERNBASE = 0xFFFFFFC000000000
PGSIZE = 4096

# What the reader needs from the kernel image: for each structure, the
# fields it reads (offset and size come from GDB).
FIELDS = {
    "sysinfo": ["base_ppn", "npages", "nfree", "nenv", "timebase_hz", "disk_blocks",
                "net_received", "net_sent", "net_delivered", "net_consumed", "net_unmatched", "ash"],
    "env_info": ["id", "parent_id", "status", "npages", "uarea_ppn", "root_ppn", "name"],
    "page_info": ["owner", "type"],
    "uarea": ["revoke_kind", "repossessed_count", "revoke_arg", "revoke_deadline", "repossessed",
              "overruns", "x_count"],
    "env": ["waiting_on", "pct_from", "pct_sleeping", "waits_for"],
    "binding": ["start", "count", "from"],
    "filter": ["owner", "npages", "received"],
    "ash_info": ["installed", "stopped", "runs", "sent"],
}
# Kernel variables: name -> GDB expression of its address.
SYMBOLS = {
    "sysinfo": "&sysinfo", "pages": "&pages", "env_table": "&env_table",
    "slice_owner": "&slice_owner", "cur_slice": "&'sched.c'::clocks[0].slice",
    "curenv": "&hart_env[0]", "slice_end": "&'sched.c'::clocks[0].slice_end",
    "envs": "&envs", "bindings": "&'disk.c'::bindings", "filters": "&'net.c'::filters",
}
# Counts: name -> GDB expression.
COUNTS = {
    "nenv": "sizeof(envs) / sizeof(envs[0])",
    "disk_bindings": "sizeof(bindings[0]) / sizeof(bindings[0][0])",
    "net_filters": "sizeof('net.c'::filters) / sizeof('net.c'::filters[0])",
}
PAGE_TYPES = ["free", "kernel", "user", "pt0", "pt1", "pt2", "uarea"]
STATUS = ["free", "runnable", "waiting"]
REVOKE_KINDS = ["pages", "page", "slice"]


class Layout:
    """Addresses and structure layouts from the kernel image, asked of GDB."""

    def __init__(self, gdb, kernel):
        exprs = []
        for s, fields in FIELDS.items():
            exprs.append(("size", s, None, f"sizeof(struct {s})"))
            for f in fields:
                exprs.append(("off", s, f, f"(long)&((struct {s} *)0)->{f}"))
                exprs.append(("fsize", s, f, f"sizeof(((struct {s} *)0)->{f})"))
        for name, e in SYMBOLS.items():
            exprs.append(("sym", name, None, f"(unsigned long){e}"))
            exprs.append(("symsize", name, None, f"sizeof(*{e})"))
        for name, e in COUNTS.items():
            exprs.append(("count", name, None, e))
        argv = [gdb, "-q", "-nx", "-batch", kernel]
        for _, _, _, e in exprs:
            argv += ["-ex", f"print {e}"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
        values = {int(n): int(v) for n, v in re.findall(r"^\$(\d+) = (\d+)", out, re.M)}
        if len(values) != len(exprs):
            missing = [e for i, (_, _, _, e) in enumerate(exprs) if i + 1 not in values]
            raise RuntimeError(f"{gdb} could not evaluate in {kernel}: {missing[:3]}")
        self.size, self.off, self.sym, self.symsize, self.count = {}, {}, {}, {}, {}
        for i, (kind, s, f, _) in enumerate(exprs):
            v = values[i + 1]
            if kind == "size":
                self.size[s] = v
            elif kind in ("off", "fsize"):
                self.off.setdefault((s, f), [0, 0])[kind == "fsize"] = v
            elif kind == "sym":
                self.sym[s] = v - KERNBASE
            elif kind == "symsize":
                self.symsize[s] = v
            else:
                self.count[s] = v
        # NSLICES is a macro, absent from the debugging information.
        with open(os.path.join(os.path.dirname(HERE), "kernel", "abi.h")) as f:
            self.count["nslices"] = int(re.search(r"^#define NSLICES\s+(\d+)", f.read(), re.M)[1])

    def get(self, buf, base, s, f):
        """Field f of the struct s at buf[base:] (an integer, or bytes for
        a field wider than 8 bytes)."""
        off, size = self.off[s, f]
        raw = buf[base + off:base + off + size]
        if size > 8:
            return raw
        return int.from_bytes(raw, "little")

    def array(self, buf, base, s, f, elem=8):
        """Field f of struct s at buf[base:], an array of elem-byte integers."""
        raw = self.get(buf, base, s, f)
        return [int.from_bytes(raw[i:i + elem], "little") for i in range(0, len(raw), elem)]


class QMP:
    """A QMP client on a unix socket: one command at a time."""

    def __init__(self, path, proc, deadline):
        """Connect to QEMU process proc's QMP socket at path, waiting for it
        until the monotonic deadline (OSError if proc exits first)."""
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self._reply()  # the greeting
        self.command("qmp_capabilities")
        self.lock = threading.Lock()

    def _reply(self):
        while True:
            line = self.file.readline()
            if not line:
                raise EOFError("QEMU closed its QMP socket")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **args):
        """Run QMP command name with args; its return value (RuntimeError
        on an error reply)."""
        self.file.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.file.flush()
        msg = self._reply()
        if "error" in msg:
            raise RuntimeError(f"QMP {name}: {msg['error'].get('desc')}")
        return msg.get("return")


class Machine:
    """Reads the machine's state from guest physical memory through QMP."""

    def __init__(self, qmp, layout, tmpdir):
        self.qmp, self.lay, self.tmp = qmp, layout, tmpdir
        self.reads = 0

    def read(self, pa, size):
        """size bytes of guest physical memory at pa, copied by QMP pmemsave
        (the machine keeps running)."""
        path = os.path.join(self.tmp, "mem")
        with self.qmp.lock:
            self.qmp.command("pmemsave", val=pa, size=size, filename=path)
            with open(path, "rb") as f:
                data = f.read()
        self.reads += 1
        return data

    def read_regions(self, regions):
        """{name: bytes} for regions {name: (pa, size)}, regions less than
        GAP bytes apart copied in one read (fewer QMP round trips)."""
        GAP = 1 << 16
        out, spans = {}, []
        for name, (pa, size) in sorted(regions.items(), key=lambda kv: kv[1][0]):
            if spans and pa - spans[-1][1] <= GAP:
                spans[-1][1] = max(spans[-1][1], pa + size)
                spans[-1][2].append((name, pa, size))
            else:
                spans.append([pa, pa + size, [(name, pa, size)]])
        for lo, hi, members in spans:
            data = self.read(lo, hi - lo)
            for name, pa, size in members:
                out[name] = data[pa - lo:pa - lo + size]
        return out

    def snapshot(self):
        """Everything the page draws, as a dict for JSON."""
        started = time.monotonic()
        self.reads = 0
        lay = self.lay
        k = self.read_regions({name: (lay.sym[name], lay.symsize[name]) for name in SYMBOLS})
        ptr = {name: int.from_bytes(k[name], "little") - KERNBASE
               for name in ("sysinfo", "pages", "env_table", "slice_owner")}
        if any(p < 0 for p in ptr.values()):
            return {"booting": True, "reads": self.reads, "seconds": time.monotonic() - started}
        si = self.read(ptr["sysinfo"], lay.size["sysinfo"])
        g = lambda f: lay.get(si, 0, "sysinfo", f)
        npages, nenv, base_ppn = g("npages"), g("nenv"), g("base_ppn")
        nslices = lay.count["nslices"]
        t = self.read_regions({"pages": (ptr["pages"], npages * lay.size["page_info"]),
                               "envs": (ptr["env_table"], nenv * lay.size["env_info"]),
                               "slices": (ptr["slice_owner"], nslices * 4)})
        pages_raw, envs_raw, slices_raw = t["pages"], t["envs"], t["slices"]
        kenvs_raw = k["envs"]
        cur_slice = int.from_bytes(k["cur_slice"], "little")
        curenv_va = int.from_bytes(k["curenv"], "little")

        slices = list(struct.unpack(f"<{nslices}I", slices_raw))
        psz = lay.size["page_info"]
        owner_off, _ = lay.off["page_info", "owner"]
        type_off, _ = lay.off["page_info", "type"]
        owners = [int.from_bytes(pages_raw[i * psz + owner_off:i * psz + owner_off + 4], "little")
                  for i in range(npages)]
        types = [pages_raw[i * psz + type_off] for i in range(npages)]
        by_type = {name: 0 for name in PAGE_TYPES}
        for ty in types:
            by_type[PAGE_TYPES[ty] if ty < len(PAGE_TYPES) else "free"] += 1

        envs, running = [], None
        esz, ksz = lay.size["env_info"], lay.size["env"]
        for i in range(nenv):
            e = lambda f: lay.get(envs_raw, i * esz, "env_info", f)
            status = e("status")
            if status == 0:
                continue
            ke = lambda f: lay.get(kenvs_raw, i * ksz, "env", f)
            if curenv_va == KERNBASE + lay.sym["envs"] + i * ksz:
                running = e("id")
            env = {"id": e("id"), "parent": e("parent_id"),
                   "status": STATUS[status] if status < len(STATUS) else str(status),
                   "pages": e("npages"), "name": e("name").split(b"\0")[0].decode(errors="replace"),
                   "root_ppn": e("root_ppn"), "uarea_ppn": e("uarea_ppn"),
                   "slices": slices.count(e("id")), "calls": ke("waiting_on"),
                   "accepts": ke("pct_from"), "sleeping": ke("pct_sleeping"),
                   "waits_for": ke("waits_for")}
            envs.append(env)
        usize = lay.size["uarea"]
        uareas = self.read_regions({e["id"]: (e["uarea_ppn"] * PGSIZE, usize) for e in envs})
        for env in envs:
            env.update(self.uarea(uareas[env["id"]]))

        bindings = []
        bsz, per = lay.size["binding"], lay.count["disk_bindings"]
        braw = k["bindings"]
        by_slot = {env["id"] & (lay.count["nenv"] - 1): env["id"] for env in envs}
        for slot, envid in by_slot.items():
            for j in range(per):
                base = (slot * per + j) * bsz
                count = lay.get(braw, base, "binding", "count")
                if count:
                    bindings.append({"env": envid, "start": lay.get(braw, base, "binding", "start"),
                                     "count": count})

        filters = []
        fsz, nf = lay.size["filter"], lay.count["net_filters"]
        fraw = k["filters"]
        ash_off, _ = lay.off["sysinfo", "ash"]
        asz = lay.size["ash_info"]
        for f in range(nf):
            owner = lay.get(fraw, f * fsz, "filter", "owner")
            if owner:
                a = lambda fld: lay.get(si, ash_off + f * asz, "ash_info", fld)
                filters.append({"filter": f, "owner": owner,
                                "received": lay.get(fraw, f * fsz, "filter", "received"),
                                "ring_pages": lay.get(fraw, f * fsz, "filter", "npages"),
                                "handler": bool(a("installed")), "stopped": a("stopped"),
                                "handler_runs": a("runs"), "handler_sent": a("sent")})

        # The machine's clock is not in memory; the running slice's end
        # (rdtime) is, a slice at most ahead of it: "now" for deadlines.
        return {"booting": False, "base_ppn": base_ppn, "npages": npages, "nfree": g("nfree"),
                "slice_end": int.from_bytes(k["slice_end"], "little"),
                "timebase_hz": g("timebase_hz"),
                "by_type": by_type, "owners": owners, "types": types,
                "slices": slices, "cur_slice": cur_slice, "running": running, "envs": envs,
                "bindings": bindings, "filters": filters, "disk_blocks": g("disk_blocks"),
                "net": {k: g("net_" + k) for k in ("received", "sent", "delivered", "consumed",
                                                   "unmatched")},
                "reads": self.reads, "seconds": time.monotonic() - started}

    def uarea(self, u):
        """What a u-area (its bytes) says of revocation and exceptions."""
        lay = self.lay
        get = lambda f: lay.get(u, 0, "uarea", f)
        vector = lay.array(u, 0, "uarea", "repossessed")
        revoke = None
        if get("revoke_deadline"):
            kind = get("revoke_kind")
            revoke = {"kind": REVOKE_KINDS[kind] if kind < len(REVOKE_KINDS) else str(kind),
                      "arg": get("revoke_arg"), "deadline": get("revoke_deadline")}
        return {"revoke": revoke, "repossessed": vector[:min(get("repossessed_count"), len(vector))],
                "overruns": get("overruns"), "exceptions": get("x_count")}

    def mappings(self, envid):
        """Environment envid's address space: its page-table pages and its
        mappings, consecutive pages with the same rights merged into one
        range (virtual start, pages, first physical page, rights)."""
        table = self.read(self.lay.sym["env_table"], 8)
        snap_envs = self.read(int.from_bytes(table, "little") - KERNBASE,
                              self.lay.count["nenv"] * self.lay.size["env_info"])
        esz, slot = self.lay.size["env_info"], envid & (self.lay.count["nenv"] - 1)
        get = lambda f: self.lay.get(snap_envs, slot * esz, "env_info", f)
        if get("id") != envid or get("status") == 0:
            return {"error": f"no environment {envid:x} (its slot holds {get('id'):x}, "
                             f"status {get('status')})"}
        started = time.monotonic()
        tables, leaves = [], []

        def walk(ppn, level, va, limit):
            tables.append({"ppn": ppn, "level": level, "va": va})
            ptes = struct.unpack("<512Q", self.read(ppn * PGSIZE, PGSIZE))
            for i in range(limit):
                pte = ptes[i]
                if not pte & 1:
                    continue
                child_va = va | (i << (12 + 9 * level))
                child = (pte >> 10) & ((1 << 44) - 1)
                if pte & 0xE:  # R, W or X: a leaf
                    leaves.append((child_va, child, pte & 0x3FF, level))
                elif level > 0 and len(tables) < 600:
                    walk(child, level - 1, child_va, 512)

        walk(get("root_ppn"), 2, 0, 256)  # root entries 256..511 are the kernel's
        ranges = []
        for va, ppn, bits, level in leaves:
            rights = "".join(c if bits & b else "-" for c, b in
                             (("r", 2), ("w", 4), ("x", 8), ("u", 16))) + \
                ("c" if bits & 0x100 else "") + ("C" if bits & 0x200 else "")
            last = ranges[-1] if ranges else None
            if (last and last["rights"] == rights and level == 0
                    and last["va"] + last["pages"] * PGSIZE == va
                    and last["ppn"] + last["pages"] == ppn):
                last["pages"] += 1
            else:
                ranges.append({"va": va, "pages": 1, "ppn": ppn, "rights": rights})
        return {"id": envid, "name": get("name").split(b"\0")[0].decode(errors="replace"),
                "root_ppn": get("root_ppn"), "tables": tables, "ranges": ranges,
                "seconds": time.monotonic() - started}


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves the page's files, /state and /env?id=N."""
    machine = None
    cache = {"at": 0.0, "body": b"", "count": 0}
    cache_lock = threading.Lock()
    FILES = {"/": "index.html", "/view.js": "view.js", "/view.css": "view.css"}
    TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript",
             ".css": "text/css", ".json": "application/json"}

    def log_message(self, fmt, *args):
        pass  # the terminal is the machine's console

    def _send(self, body, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _state(self):
        """A snapshot, shared by requests less than 50 ms apart."""
        with self.cache_lock:
            c = self.cache
            if time.monotonic() - c["at"] > 0.05:
                snap = self.machine.snapshot()
                c["count"] += 1
                snap["snapshot"] = c["count"]
                c["body"], c["at"] = json.dumps(snap).encode(), time.monotonic()
            return c["body"]

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        try:
            if url.path in self.FILES:
                name = self.FILES[url.path]
                with open(os.path.join(PAGE_DIR, name), "rb") as f:
                    self._send(f.read(), self.TYPES[os.path.splitext(name)[1]])
            elif url.path == "/state":
                self._send(self._state(), self.TYPES[".json"])
            elif url.path == "/env":
                envid = int(urllib.parse.parse_qs(url.query).get("id", ["0"])[0], 0)
                self._send(json.dumps(self.machine.mappings(envid)).encode(), self.TYPES[".json"])
            else:
                self.send_error(404)
        except (OSError, EOFError, RuntimeError, ValueError) as e:
            body = json.dumps({"error": str(e)}).encode()
            self.send_response(503)
            self.send_header("Content-Type", self.TYPES[".json"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--gdb", default="gdb-multiarch", help="the GDB that reads the kernel image")
    ap.add_argument("--kernel", default="build/kernel/kernel")
    ap.add_argument("qemu", nargs=argparse.REMAINDER, help="-- then the QEMU command")
    args = ap.parse_args(argv)
    qemu = args.qemu[1:] if args.qemu[:1] == ["--"] else args.qemu
    if not qemu:
        ap.error("no QEMU command after --")
    try:
        layout = Layout(args.gdb, args.kernel)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print(f"*** view: cannot read the kernel's layout ({e}); booting without the view",
              file=sys.stderr, flush=True)
        return subprocess.call(qemu)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    tmpdir = tempfile.mkdtemp(prefix="rvexo-view-")
    sock = os.path.join(tmpdir, "qmp")
    print(f"*** view: http://127.0.0.1:{server.server_address[1]}/ "
          f"(the machine, live; quit QEMU: Ctrl-A x)", flush=True)
    proc = subprocess.Popen(qemu + ["-qmp", f"unix:{sock},server=on,wait=off"])
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the machine goes with us
        signal.signal(sig, lambda *_: proc.terminate())
    try:
        try:
            Handler.machine = Machine(QMP(sock, proc, time.monotonic() + 30), layout, tmpdir)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        except OSError as e:
            print(f"*** view: no QMP socket from QEMU ({e}); no view", file=sys.stderr, flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()
    finally:
        server.server_close()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
