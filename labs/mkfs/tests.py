# Lab mkfs: the host tool that builds the file-system image, tested on the
# host (no QEMU).
#
# mkfs is built into build/mkfs/mkfs (by the Makefile's rule when it has
# one, else by gcc directly). Its images are read back here by an
# independent reader of the on-disk format of ulib/fsformat.h, written from
# the format's description with Python's struct module: superblock, inodes
# with direct, single- and double-indirect blocks, the root directory and
# the bitmap. Each run's command line and output are shown if a test fails.

import os
import random
import re
import struct
import subprocess
import tempfile

from gradelib import *

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKFS = os.path.join(ROOT, "build", "mkfs", "mkfs")

# The format (ulib/fsformat.h).
BSIZE = 4096
MAGIC = 0x52564653
NDIRECT = 11
NINDIRECT = BSIZE // 4
INODE_SIZE = 64
IPB = BSIZE // INODE_SIZE
BPB = BSIZE * 8
DIRENT_SIZE = 16
DIRSIZ = 14
ROOTINO = 1
T_DIR, T_FILE = 1, 2
NLOG = 31

SUMMARY = (r"^mkfs: (?P<image>\S+): (?P<size>\d+) blocks \(1 boot, 1 super, (?P<nlog>\d+) log, "
           r"(?P<ninodeblocks>\d+) inode, (?P<nbitmap>\d+) bitmap, (?P<ndata>\d+) data\), "
           r"(?P<ninodes>\d+) inodes, (?P<nfiles>\d+) files, (?P<used>\d+) data blocks used$")

_built = None   # None: not tried yet; else (ok, message)


def build_mkfs(t):
    """Build build/mkfs/mkfs once per grader run (with make when the
    Makefile has a rule for it); end the test if the build fails."""
    global _built
    if _built is None:
        with open(os.path.join(ROOT, "Makefile")) as f:
            has_rule = re.search(r"^(\$\(B\)|build)/mkfs/mkfs\s*:", f.read(), re.M) is not None
        if has_rule:
            argv = ["make", "-s", "build/mkfs/mkfs"]
        else:
            os.makedirs(os.path.dirname(MKFS), exist_ok=True)
            argv = ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I.", "-o", MKFS, "mkfs/mkfs.c"]
        out = t.run(argv, timeout=60)
        ok = out.returncode == 0 and os.access(MKFS, os.X_OK)
        _built = (ok, f"`{' '.join(argv)}` failed (status {out.returncode}):\n{out}")
    if not _built[0]:
        t.fail(_built[1])


def mkfs(t, *args, cwd=None):
    """Run mkfs with args (in cwd). Returns (status, stdout, stderr); the
    command and its output are noted for the failure report."""
    p = subprocess.run([MKFS, *map(str, args)], cwd=cwd or ROOT, capture_output=True,
                       text=True, errors="replace", timeout=60)
    t.note(f"$ mkfs {' '.join(map(str, args))}\n  status {p.returncode}\n"
           f"  stdout: {p.stdout!r}\n  stderr: {p.stderr!r}")
    return p.returncode, p.stdout, p.stderr


def write(path, data):
    """Create the file path (and its directory) holding bytes data."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def noise(n, seed):
    """n reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(n)


# ---------------------------------------------------------------- the reader

class Image:
    """An image read back by the format's rules. Fields: data (bytes),
    sb (dict of the superblock), problems (list of what is wrong)."""

    FIELDS = ("magic", "size", "nblocks", "ninodes", "nlog", "logstart", "inodestart", "bmapstart")

    def __init__(self, data):
        self.data = data
        self.problems = []
        self.sb = dict(zip(self.FIELDS, struct.unpack_from("<8I", data, BSIZE)))
        self.owner = {}   # data block -> what uses it (file data or pointer block)

    def block(self, b):
        """Block b's bytes."""
        return self.data[b * BSIZE:(b + 1) * BSIZE]

    def inode(self, inum):
        """Inode inum as a dict: type, major, minor, nlink, size, addrs."""
        off = self.sb["inodestart"] * BSIZE + inum * INODE_SIZE
        f = struct.unpack_from("<4hI13I", self.data, off)
        return {"type": f[0], "major": f[1], "minor": f[2], "nlink": f[3],
                "size": f[4], "addrs": list(f[5:])}

    def problem(self, text):
        self.problems.append(text)

    def claim(self, b, what):
        """Record that what uses block b; report a block outside the data
        region or used twice."""
        datastart = self.sb["size"] - self.sb["nblocks"]
        if not datastart <= b < self.sb["size"]:
            self.problem(f"{what}: block {b} is outside the data region [{datastart}, {self.sb['size']})")
        elif b in self.owner:
            self.problem(f"{what}: block {b} is also used by {self.owner[b]}")
        self.owner[b] = what

    def pointers(self, b, what):
        """The NINDIRECT addresses in pointer block b."""
        self.claim(b, what)
        return list(struct.unpack_from(f"<{NINDIRECT}I", self.data, b * BSIZE))

    def contents(self, inum, what):
        """The bytes of inode inum, following its direct, single-indirect
        and double-indirect addresses; report a missing address where the
        size needs a block and a present one where it does not."""
        ino = self.inode(inum)
        nblocks = (ino["size"] + BSIZE - 1) // BSIZE
        addrs = ino["addrs"]
        blocks = addrs[:NDIRECT]
        if addrs[NDIRECT]:
            blocks += self.pointers(addrs[NDIRECT], f"{what} (indirect block)")
        elif nblocks > NDIRECT:
            self.problem(f"{what}: {nblocks} blocks but no indirect block")
        if addrs[NDIRECT + 1]:
            for i, ind in enumerate(self.pointers(addrs[NDIRECT + 1], f"{what} (double-indirect block)")):
                if ind:
                    blocks += self.pointers(ind, f"{what} (indirect block {i} of the double-indirect)")
                else:
                    blocks += [0] * NINDIRECT
        elif nblocks > NDIRECT + NINDIRECT:
            self.problem(f"{what}: {nblocks} blocks but no double-indirect block")
        if addrs[NDIRECT] and nblocks <= NDIRECT:
            self.problem(f"{what}: an indirect block, but only {nblocks} blocks")
        if addrs[NDIRECT + 1] and nblocks <= NDIRECT + NINDIRECT:
            self.problem(f"{what}: a double-indirect block, but only {nblocks} blocks")
        out = bytearray()
        for i, b in enumerate(blocks):
            if i < nblocks:
                if b == 0:
                    self.problem(f"{what}: block {i} of {nblocks} has no address")
                    out += bytes(BSIZE)
                else:
                    self.claim(b, f"{what} (block {i})")
                    out += self.block(b)
            elif b != 0:
                self.problem(f"{what}: address {b} for block {i}, past the size {ino['size']}")
        if len(out) < ino["size"]:
            out += bytes(ino["size"] - len(out))
        return bytes(out[:ino["size"]])

    def directory(self, inum, what):
        """[(name, inum)] of directory inode inum; names are the NUL-padded
        14 bytes without the padding."""
        raw = self.contents(inum, what)
        if len(raw) % DIRENT_SIZE:
            self.problem(f"{what}: size {len(raw)} is not a multiple of {DIRENT_SIZE}")
        entries = []
        for off in range(0, len(raw) - len(raw) % DIRENT_SIZE, DIRENT_SIZE):
            num, name = struct.unpack_from("<H14s", raw, off)
            if b"\0" in name.rstrip(b"\0"):
                self.problem(f"{what}: entry {off // DIRENT_SIZE} name {name!r} is not NUL-padded")
            entries.append((name.rstrip(b"\0").decode(errors="replace"), num))
        return entries

    def bitmap_bit(self, b):
        """Block b's bit in the bitmap (b may be past size, up to the end
        of the last bitmap block)."""
        byte = self.data[(self.sb["bmapstart"] + b // BPB) * BSIZE + (b % BPB) // 8]
        return (byte >> (b % 8)) & 1


def expected_layout(size, ninodes):
    """The superblock mkfs should write for size blocks and ninodes inodes."""
    inodestart = 2 + NLOG
    bmapstart = inodestart + (ninodes + IPB - 1) // IPB
    nbitmap = (size + BPB - 1) // BPB
    return {"magic": MAGIC, "size": size, "nblocks": size - bmapstart - nbitmap,
            "ninodes": ninodes, "nlog": NLOG, "logstart": 2,
            "inodestart": inodestart, "bmapstart": bmapstart}


def check_image(path, files, size, ninodes):
    """Read the image at path and return (problems, image). files is
    [(name, bytes)] in the order given to mkfs, which must be the root's
    entries after . and .., with inodes 2, 3, ..."""
    with open(path, "rb") as f:
        img = Image(f.read())
    p = img.problem
    if len(img.data) != size * BSIZE:
        p(f"the image has {len(img.data)} bytes, not {size} blocks of {BSIZE}")
        return img.problems, img
    want = expected_layout(size, ninodes)
    for field in Image.FIELDS:
        if img.sb[field] != want[field]:
            p(f"superblock {field} = {img.sb[field]:#x}, not {want[field]:#x}")
    if img.problems:
        return img.problems, img
    sb = img.sb
    if any(img.block(0)):
        p("block 0 (boot) is not zero")
    if any(img.block(1)[32:]):
        p("block 1 holds more than the superblock")
    for b in range(sb["logstart"], sb["logstart"] + sb["nlog"]):
        if any(img.block(b)):
            p(f"log block {b} is not zero (the log header must say n = 0)")

    # The root directory.
    root = img.inode(ROOTINO)
    if (root["type"], root["nlink"], root["major"], root["minor"]) != (T_DIR, 1, 0, 0):
        p(f"root inode: type {root['type']}, nlink {root['nlink']}, major/minor "
          f"{root['major']}/{root['minor']}; want a directory (1) with nlink 1")
    entries = img.directory(ROOTINO, "the root directory")
    want_entries = [(".", ROOTINO), ("..", ROOTINO)] + \
        [(name, ROOTINO + 1 + i) for i, (name, _) in enumerate(files)]
    if entries != want_entries:
        p(f"root directory entries {entries}, not {want_entries}")

    # Each file, byte for byte.
    for i, (name, content) in enumerate(files):
        inum = ROOTINO + 1 + i
        ino = img.inode(inum)
        if (ino["type"], ino["nlink"], ino["major"], ino["minor"]) != (T_FILE, 1, 0, 0):
            p(f"{name} (inode {inum}): type {ino['type']}, nlink {ino['nlink']}; want a file (2), nlink 1")
        if ino["size"] != len(content):
            p(f"{name} (inode {inum}): size {ino['size']}, not {len(content)}")
        got = img.contents(inum, name)
        if got != content:
            diff = next((j for j, (a, b) in enumerate(zip(got, content)) if a != b), min(len(got), len(content)))
            p(f"{name} (inode {inum}): contents differ from the original at byte {diff}")

    # Inode 0 and the unused inodes are zero.
    for inum in [0] + list(range(ROOTINO + 1 + len(files), ninodes)):
        off = sb["inodestart"] * BSIZE + inum * INODE_SIZE
        if any(img.data[off:off + INODE_SIZE]):
            p(f"inode {inum} should be free (all zero)")
            break

    # The bitmap: exactly the metadata and the blocks in use.
    datastart = sb["size"] - sb["nblocks"]
    used = set(range(datastart)) | set(img.owner)
    nbits = ((sb["size"] + BPB - 1) // BPB) * BPB
    wrong = [b for b in range(nbits) if img.bitmap_bit(b) != (b in used)]
    if wrong:
        p(f"{len(wrong)} bitmap bits wrong, the first for block {wrong[0]} "
          f"({'marked used' if img.bitmap_bit(wrong[0]) else 'not marked'})")
    # Blocks in use are a prefix of the data region (allocation in order),
    # and the others are zero.
    if img.owner and sorted(img.owner) != list(range(datastart, datastart + len(img.owner))):
        p("the data blocks in use are not allocated in order from the data region's start")
    for b in range(datastart, sb["size"]):
        if b not in img.owner and any(img.block(b)):
            p(f"unused data block {b} is not zero")
            break
    return img.problems, img


def report(t, problems):
    """Report each problem (at most 20)."""
    for text in problems[:20]:
        t.check(False, text)
    if len(problems) > 20:
        t.check(False, f"... and {len(problems) - 20} more problems")


# ---------------------------------------------------------------- tests

@test(points=1, timeout=60)
def builds(t):
    """mkfs compiles with -Wall -Wextra -Werror."""
    build_mkfs(t)


@test(points=4, parent=builds, timeout=60)
def image_contents(t):
    """Files of all sizes (empty, one block, direct only, single-indirect,
    several MiB through the double-indirect block, a 14-character name)
    read back byte for byte; superblock, root directory, free inodes and
    the bitmap are exactly right; the image is the same when made twice.
    (A 16 MiB image: -s 4096.)"""
    build_mkfs(t)
    with tempfile.TemporaryDirectory() as tmp:
        files = [("README", b"rvexo file system\n"),
                 ("empty", b""),
                 ("one_block", noise(BSIZE, 1)),
                 ("direct_only", noise(NDIRECT * BSIZE, 2)),
                 ("fourteen_chars", noise(NDIRECT * BSIZE + 1, 3)),
                 ("indirect_full", noise((NDIRECT + NINDIRECT) * BSIZE, 4)),
                 ("big", noise(5 * 1024 * 1024 + 12345, 5))]
        paths = [write(os.path.join(tmp, "in", "sub" if i % 2 else "", name), data)
                 for i, (name, data) in enumerate(files)]
        image = os.path.join(tmp, "fs.img")
        status, out, err = mkfs(t, "-s", 4096, image, *paths)
        t.check(status == 0, f"mkfs exited with status {status}")
        t.check(err == "", f"mkfs wrote to stderr: {err!r}")
        if not os.path.exists(image):
            t.fail("no image written")
        problems, img = check_image(image, files, 4096, 200)
        report(t, problems)
        big = img.inode(ROOTINO + len(files))
        t.check(big["addrs"][NDIRECT + 1] != 0, "the 5 MiB file has no double-indirect block")
        m = re.fullmatch(SUMMARY + "\n", out, re.M)
        if t.check(m, f"summary line {out!r} does not match /{SUMMARY}/"):
            got = {k: m.group(k) for k in m.groupdict()}
            want = {"image": image, "size": "4096", "nlog": "31", "ninodeblocks": "4",
                    "nbitmap": "1", "ndata": "4058", "ninodes": "200",
                    "nfiles": str(len(files)), "used": str(len(img.owner))}
            t.check(got == want, f"summary says {got}, not {want}")
        again = os.path.join(tmp, "again.img")
        mkfs(t, "-s", 4096, again, *paths)
        with open(image, "rb") as a, open(again, "rb") as b:
            t.check(a.read() == b.read(), "the same files made a different image the second time")


@test(points=3, parent=builds, timeout=60)
def errors(t):
    """Each error prints its one line "mkfs: ..." on stderr, nothing on
    stdout, exits with status 1 and leaves no image, also when it is found
    only while the image is being written."""
    build_mkfs(t)
    with tempfile.TemporaryDirectory() as tmp:
        small = write(os.path.join(tmp, "small"), b"x" * 100)
        other = write(os.path.join(tmp, "other"), b"y" * 100)
        meg = write(os.path.join(tmp, "meg"), noise(1 << 20, 6))
        write(os.path.join(tmp, "a", "same"), b"1")
        write(os.path.join(tmp, "b", "same"), b"2")
        write(os.path.join(tmp, "fourteen_chars"), b"ok")
        write(os.path.join(tmp, "fifteen_chars_x"), b"too long")
        os.makedirs(os.path.join(tmp, "adir"))
        huge = os.path.join(tmp, "huge")
        with open(huge, "wb") as f:
            f.truncate(1 << 32)         # sparse: 4 GiB, one byte over the limit
        missing = os.path.join(tmp, "missing")
        cases = [
            ([missing], r"cannot read \S*/missing: No such file or directory"),
            (["adir"], r"cannot read adir: Is a directory.*"),
            (["-i", "4", small, other, "fourteen_chars"], r"too many files: .* 4 inodes"),
            (["-i", "2", small], r"too many files: .*inodes"),
            (["-s", "30"], r"image too small: .*"),
            (["-s", "38"], r"image too small: .*"),
            (["-s", "200", meg], r"image too small: .*"),
            (["fourteen_chars", "fifteen_chars_x"], re.escape("name too long (max 14): fifteen_chars_x")),
            (["a/same", small, "b/same"], r"duplicate name: same"),
            ([small, "small"], r"duplicate name: small"),
            ([huge], r"file too large \(max 4294967295 bytes\): \S*huge"),
            (["-s", "abc", small], r"bad value for -s: 'abc'.*"),
            (["-s", "0", small], r"bad value for -s: '0'.*"),
            (["-s", "-5", small], r"bad value for -s: '-5'.*"),
            (["-s", "99999999999", small], r"bad value for -s: '99999999999'.*"),
            (["-i", "1", small], r"bad value for -i: '1'.*"),
            (["-i", "65537", small], r"bad value for -i: '65537'.*"),
            (["-i", "12x", small], r"bad value for -i: '12x'.*"),
        ]
        if os.path.exists("/dev/zero"):
            # Its size reads as 0 when checked, but it never ends: mkfs runs
            # out of blocks after creating the image, and must remove it.
            cases.append((["-s", "100", "/dev/zero"], r"image too small: .*/dev/zero"))
        if os.geteuid() != 0:
            locked = write(os.path.join(tmp, "locked"), b"secret")
            os.chmod(locked, 0)
            cases.append(([locked], r"cannot read \S*/locked: Permission denied"))
        for args, rx in cases:
            image = os.path.join(tmp, "fs.img")
            # Options first, then the image, then the files.
            nopts = 2 if args and args[0].startswith("-") else 0
            argv = args[:nopts] + [image] + args[nopts:]
            status, out, err = mkfs(t, *argv, cwd=tmp)
            what = "mkfs " + " ".join(os.path.relpath(a, tmp) if a.startswith(tmp) else a for a in argv)
            t.check(status == 1, f"{what}: exit status {status}, not 1")
            t.check(re.fullmatch(f"mkfs: {rx}\n", err), f"{what}: stderr {err!r} does not match /mkfs: {rx}/")
            t.check(out == "", f"{what}: stdout {out!r}, not empty")
            t.check(not os.path.exists(image), f"{what}: left {os.path.basename(image)} behind")
            if os.path.exists(image):
                os.remove(image)
        for argv in [[], ["-s"], ["-s", "100"], ["-x", "fs.img"], ["-i"]]:
            status, out, err = mkfs(t, *argv, cwd=tmp)
            t.check(status == 1 and re.fullmatch(r"mkfs: usage: mkfs .*IMAGE.*\n", err) and out == "",
                    f"mkfs {' '.join(argv)}: status {status}, stderr {err!r}; want status 1 and a usage line")
        leftovers = sorted(set(os.listdir(tmp)) - {"small", "other", "meg", "a", "b", "fourteen_chars",
                                                   "fifteen_chars_x", "adir", "huge", "locked"})
        t.check(not leftovers, f"files left behind: {leftovers}")


@test(points=2, parent=builds, timeout=60)
def options(t):
    """-s and -i change the superblock and the layout (a 16-block inode
    table, a two-block bitmap); the smallest inode count and image size
    that fit are accepted; without options the image has 2048 blocks and
    200 inodes."""
    build_mkfs(t)
    with tempfile.TemporaryDirectory() as tmp:
        files = [("hello", b"hello, world\n"), ("data", noise(300000, 7))]
        paths = [write(os.path.join(tmp, name), data) for name, data in files]
        for size, ninodes, fs in [(5000, 1000, files), (40000, 64, files),
                                  (2048, 4, files), (36, 2, []), (2048, 200, files)]:
            image = os.path.join(tmp, f"fs-{size}-{ninodes}.img")
            args = ["-s", size, "-i", ninodes, image] + paths[:len(fs)]
            if (size, ninodes) == (2048, 200):
                args = [image] + paths  # the defaults
            status, out, err = mkfs(t, *args)
            if not t.check(status == 0 and os.path.exists(image),
                           f"-s {size} -i {ninodes}: status {status}, stderr {err!r}"):
                continue
            problems, img = check_image(image, fs, size, ninodes)
            report(t, [f"-s {size} -i {ninodes}: {text}" for text in problems])
            m = re.fullmatch(SUMMARY + "\n", out, re.M)
            want = expected_layout(size, ninodes)
            if t.check(m, f"-s {size} -i {ninodes}: summary {out!r} does not match"):
                t.check((int(m["size"]), int(m["ninodes"]), int(m["ndata"]), int(m["nbitmap"])) ==
                        (size, ninodes, want["nblocks"], (size + BPB - 1) // BPB),
                        f"-s {size} -i {ninodes}: summary {out.strip()!r}")
        # One block less than the smallest image is refused.
        status, _, err = mkfs(t, "-s", 35, "-i", 2, os.path.join(tmp, "tiny.img"))
        t.check(status == 1 and "image too small" in err, f"-s 35 -i 2: status {status}, stderr {err!r}")
