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

_built = {}  # tool name -> (ok, message), once per grader run


def build_tool(t, name):
    """Build build/mkfs/NAME (mkfs or fsck) with make, once per grader run;
    end the test if the build fails."""
    if name not in _built:
        argv = ["make", "-s", f"build/mkfs/{name}"]
        out = t.run(argv, timeout=60)
        ok = out.returncode == 0 and os.access(os.path.join(ROOT, "build", "mkfs", name), os.X_OK)
        _built[name] = (ok, f"`{' '.join(argv)}` failed (status {out.returncode}):\n{out}")
    if not _built[name][0]:
        t.fail(_built[name][1])


def run_tool(t, path, *args, cwd=None, shown=None):
    """Run the tool at path with args (in cwd). Returns (status, stdout,
    stderr); the command and its output (stdout cut to shown characters)
    are noted for the failure report."""
    p = subprocess.run([path, *map(str, args)], cwd=cwd or ROOT, capture_output=True,
                       text=True, errors="replace", timeout=60)
    t.note(f"$ {os.path.basename(path)} {' '.join(map(str, args))}\n  status {p.returncode}\n"
           f"  stdout: {p.stdout[:shown]!r}\n  stderr: {p.stderr!r}")
    return p.returncode, p.stdout, p.stderr


def mkfs(t, *args, cwd=None):
    """Run mkfs with args (in cwd); see run_tool."""
    return run_tool(t, MKFS, *args, cwd=cwd)


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
    build_tool(t, "mkfs")


@test(points=4, parent=builds, timeout=60)
def image_contents(t):
    """Files of all sizes (empty, one block, direct only, single-indirect,
    several MiB through the double-indirect block, a 14-character name)
    read back byte for byte; superblock, root directory, free inodes and
    the bitmap are exactly right; the image is the same when made twice.
    (A 16 MiB image: -s 4096.)"""
    build_tool(t, "mkfs")
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
    build_tool(t, "mkfs")
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
    build_tool(t, "mkfs")
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


# ---------------------------------------------------------------- fsck
#
# fsck (mkfs/fsck.c, built into build/mkfs/fsck) checks an image. Its tests
# run it on images mkfs makes, on images extended here by hand (a
# directory tree, hard links, a device), on copies of those with one thing
# broken, and on images whose log holds a committed transaction.

FSCK = os.path.join(ROOT, "build", "mkfs", "fsck")
T_DEVICE = 3
LOGSIZE = 30
SUPERBLK = 1

def fsck(t, *args, cwd=None):
    """Run fsck with args (in cwd); see run_tool."""
    return run_tool(t, FSCK, *args, cwd=cwd, shown=3000)


def fnv1a(data):
    """The 32-bit FNV-1a hash of bytes data, as fsck -l shows it."""
    h = 0x811c9dc5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def dir_hash(names):
    """fsck -l's hash of a directory holding names ("." and ".." left out)."""
    return fnv1a(b"".join(n.encode() + b"\n" for n in sorted(set(names) - {".", ".."})))


class Disk:
    """An image to change by hand: data (a bytearray), sb (the superblock
    as a dict). Directories it edits and files it creates use direct
    blocks only; it allocates the first free inode and the first data block
    the bitmap has free, as a file system would."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.sb = dict(zip(Image.FIELDS, struct.unpack_from("<8I", self.data, BSIZE)))
        self.datastart = self.sb["size"] - self.sb["nblocks"]

    @classmethod
    def load(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.data)
        return path

    def copy(self):
        return Disk(self.data)

    def block(self, b):
        return bytes(self.data[b * BSIZE:(b + 1) * BSIZE])

    def inode(self, inum):
        """Inode inum as a dict, like Image.inode."""
        return Image.inode(self, inum)

    def put_inode(self, inum, **fields):
        """Change the fields given (type, major, minor, nlink, size, addrs)
        of inode inum."""
        ino = {**self.inode(inum), **fields}
        off = self.sb["inodestart"] * BSIZE + inum * INODE_SIZE
        struct.pack_into("<4hI13I", self.data, off, ino["type"], ino["major"], ino["minor"],
                         ino["nlink"], ino["size"], *ino["addrs"])

    def set_addr(self, inum, i, b):
        addrs = self.inode(inum)["addrs"]
        addrs[i] = b
        self.put_inode(inum, addrs=addrs)

    def put_word(self, b, i, value):
        struct.pack_into("<I", self.data, b * BSIZE + 4 * i, value)

    def bit(self, b):
        return Image.bitmap_bit(self, b)

    def set_bit(self, b, on=True):
        off = (self.sb["bmapstart"] + b // BPB) * BSIZE + (b % BPB) // 8
        if on:
            self.data[off] |= 1 << (b % 8)
        else:
            self.data[off] &= ~(1 << (b % 8)) & 0xFF

    def free_block(self):
        """The first data block the bitmap has free (not allocated)."""
        return next(b for b in range(self.datastart, self.sb["size"]) if not self.bit(b))

    def alloc_block(self):
        b = self.free_block()
        self.set_bit(b)
        self.data[b * BSIZE:(b + 1) * BSIZE] = bytes(BSIZE)
        return b

    def free_inode(self):
        """The first free inode (not allocated)."""
        return next(i for i in range(ROOTINO + 1, self.sb["ninodes"]) if self.inode(i)["type"] == 0)

    def alloc_inode(self, type, **fields):
        inum = self.free_inode()
        self.put_inode(inum, type=type, nlink=1, size=0, addrs=[0] * (NDIRECT + 2), **fields)
        return inum

    def entry_offset(self, dinum, i):
        """Where entry i of directory dinum is, its block allocated."""
        blk, off = divmod(i * DIRENT_SIZE, BSIZE)
        if self.inode(dinum)["addrs"][blk] == 0:
            self.set_addr(dinum, blk, self.alloc_block())
        return self.inode(dinum)["addrs"][blk] * BSIZE + off

    def entries(self, dinum):
        """[(name, inum)] of directory dinum, empty slots included."""
        return [(name.rstrip(b"\0").decode(errors="replace"), num)
                for num, name in (struct.unpack_from("<H14s", self.data, self.entry_offset(dinum, i))
                                  for i in range(self.inode(dinum)["size"] // DIRENT_SIZE))]

    def index(self, dinum, name):
        return [n for n, _ in self.entries(dinum)].index(name)

    def set_entry(self, dinum, i, name, inum):
        """Make entry i of directory dinum name inum as name (str, or the
        14 raw bytes), growing the directory if it is past the end."""
        raw = name.encode() if isinstance(name, str) else name
        struct.pack_into("<H14s", self.data, self.entry_offset(dinum, i), inum, raw)
        size = self.inode(dinum)["size"]
        self.put_inode(dinum, size=max(size, (i + 1) * DIRENT_SIZE))

    def add_entry(self, dinum, name, inum):
        self.set_entry(dinum, self.inode(dinum)["size"] // DIRENT_SIZE, name, inum)

    def mkdir(self, dinum, name):
        """A new directory name in directory dinum; its inode number."""
        inum = self.alloc_inode(T_DIR)
        self.set_entry(inum, 0, ".", inum)
        self.set_entry(inum, 1, "..", dinum)
        self.add_entry(dinum, name, inum)
        self.put_inode(dinum, nlink=self.inode(dinum)["nlink"] + 1)
        return inum

    def create(self, dinum, name, content=b"", type=T_FILE, **fields):
        """A new file (or device) name in directory dinum holding content
        (at most NDIRECT blocks); its inode number."""
        inum = self.alloc_inode(type, **fields)
        for i in range(0, len(content), BSIZE):
            b = self.alloc_block()
            self.data[b * BSIZE:b * BSIZE + len(content[i:i + BSIZE])] = content[i:i + BSIZE]
            self.set_addr(inum, i // BSIZE, b)
        self.put_inode(inum, size=len(content))
        self.add_entry(dinum, name, inum)
        return inum

    def link(self, dinum, name, inum):
        """A new entry name in directory dinum for the file inum."""
        self.add_entry(dinum, name, inum)
        self.put_inode(inum, nlink=self.inode(inum)["nlink"] + 1)


def log_transaction(old, new, blocks=None):
    """A copy of Disk old whose log holds, committed, the blocks in which
    Disk new differs from old (or the blocks listed, taken from new)."""
    sb = old.sb
    if blocks is None:
        blocks = [b for b in range(sb["size"]) if old.block(b) != new.block(b)]
    out = old.copy()
    for i, b in enumerate(blocks):
        start = (sb["logstart"] + 1 + i) * BSIZE
        out.data[start:start + BSIZE] = new.block(b)
    struct.pack_into(f"<{1 + len(blocks)}I", out.data, sb["logstart"] * BSIZE, len(blocks), *blocks)
    return out


def clean_line(image, nfiles, ndirs, ndevs, used):
    return (f"fsck: {image}: clean: {nfiles} files, {ndirs} directories, {ndevs} devices, "
            f"{used} data blocks used\n")


def listing(entries):
    """fsck -l's lines for entries [(path, type, size, nlink, hash)]."""
    return "".join(f"{p} {ty} {size} {nlink} {h}\n" for p, ty, size, nlink, h in sorted(entries))


def fsck_base(t, tmp):
    """Make the image the corruption tests start from: mkfs's root with
    README, data (3 blocks), indirect (single-indirect) and big
    (double-indirect), then by hand /d, /d/e, /d/e/f, /d/link (a second
    name of README) and /console (a device). Returns (Disk, info): info
    maps names to inode numbers and keeps the contents."""
    files = [("README", b"rvexo file system\n"), ("data", noise(3 * BSIZE - 7, 20)),
             ("indirect", noise((NDIRECT + 5) * BSIZE, 21)),
             ("big", noise((NDIRECT + NINDIRECT + 40) * BSIZE + 99, 22))]
    paths = [write(os.path.join(tmp, "in", name), data) for name, data in files]
    image = os.path.join(tmp, "base.img")
    status, _, err = mkfs(t, "-s", 4096, image, *paths)
    if status != 0:
        t.fail(f"mkfs failed: {err}")
    disk = Disk.load(image)
    info = {name: ROOTINO + 1 + i for i, (name, _) in enumerate(files)}
    info["contents"] = dict(files)
    info["d"] = disk.mkdir(ROOTINO, "d")
    info["e"] = disk.mkdir(info["d"], "e")
    info["f"] = disk.create(info["e"], "f", b"in e\n")
    disk.link(info["d"], "link", info["README"])
    info["console"] = disk.create(ROOTINO, "console", type=T_DEVICE, major=1)
    return disk, info


@test(points=1, parent=builds, timeout=60)
def fsck_builds(t):
    """fsck compiles with -Wall -Wextra -Werror (make build/mkfs/fsck)."""
    build_tool(t, "fsck")


@test(points=3, parent=fsck_builds, timeout=120)
def fsck_clean(t):
    """fsck says clean, with the right counts, for images mkfs makes (empty;
    files of every size up to the double-indirect block) and for one
    extended by hand (a directory tree, a hard link, a device); -l lists
    every path with its type, size, nlink and FNV-1a hash; the image is
    not changed."""
    build_tool(t, "mkfs")
    build_tool(t, "fsck")
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.img")
        mkfs(t, empty)
        status, out, err = fsck(t, "-l", empty)
        t.check(status == 0, f"empty image: exit status {status}, not 0")
        t.check(out == clean_line(empty, 0, 1, 0, 1) + "/ dir 32 1 811c9dc5\n",
                f"empty image: output {out!r}")
        t.check(err == "", f"empty image: stderr {err!r}")

        files = [("README", b"rvexo file system\n"), ("empty", b""),
                 ("one_block", noise(BSIZE, 11)), ("fourteen_chars", noise(NDIRECT * BSIZE + 1, 12)),
                 ("big", noise((NDIRECT + NINDIRECT + 50) * BSIZE + 1, 13))]
        paths = [write(os.path.join(tmp, "in", name), data) for name, data in files]
        image = os.path.join(tmp, "fs.img")
        status, out, _ = mkfs(t, "-s", 4096, image, *paths)
        used = re.fullmatch(SUMMARY + "\n", out)["used"]
        with open(image, "rb") as f:
            before = f.read()
        status, out, err = fsck(t, "-l", image)
        t.check(status == 0, f"mkfs's image: exit status {status}, not 0")
        t.check(Disk(before).inode(ROOTINO + len(files))["addrs"][NDIRECT + 1] != 0,
                "the big file has no double-indirect block")
        want = clean_line(image, len(files), 1, 0, used) + listing(
            [("/", "dir", (2 + len(files)) * DIRENT_SIZE, 1, dir_hash([n for n, _ in files]))] +
            [("/" + name, "file", len(data), 1, fnv1a(data)) for name, data in files])
        t.check(out == want, f"mkfs's image: output\n{out}\nnot\n{want}")
        t.check(err == "", f"mkfs's image: stderr {err!r}")
        status, out, _ = fsck(t, image)
        t.check(status == 0 and out == clean_line(image, len(files), 1, 0, used),
                f"without -l: status {status}, output {out!r}")
        with open(image, "rb") as f:
            t.check(f.read() == before, "fsck changed the image")

        disk, info = fsck_base(t, tmp)
        tree = disk.save(os.path.join(tmp, "tree.img"))
        status, out, err = fsck(t, "-l", tree)
        c = info["contents"]
        used = len({b for b in range(disk.datastart, disk.sb["size"]) if disk.bit(b)})
        root_names = [".", "..", "README", "data", "indirect", "big", "d", "console"]
        want = clean_line(tree, 5, 3, 1, used) + listing([
            ("/", "dir", len(root_names) * DIRENT_SIZE, 2, dir_hash(root_names)),
            ("/README", "file", len(c["README"]), 2, fnv1a(c["README"])),
            ("/data", "file", len(c["data"]), 1, fnv1a(c["data"])),
            ("/indirect", "file", len(c["indirect"]), 1, fnv1a(c["indirect"])),
            ("/big", "file", len(c["big"]), 1, fnv1a(c["big"])),
            ("/console", "dev", 0, 1, fnv1a(b"")),
            ("/d", "dir", 4 * DIRENT_SIZE, 2, dir_hash(["e", "link"])),
            ("/d/link", "file", len(c["README"]), 2, fnv1a(c["README"])),
            ("/d/e", "dir", 3 * DIRENT_SIZE, 1, dir_hash(["f"])),
            ("/d/e/f", "file", 5, 1, fnv1a(b"in e\n"))])
        t.check(status == 0 and out == want, f"hand-made tree: status {status}, output\n{out}\nnot\n{want}")


@test(points=4, parent=fsck_builds, timeout=120)
def fsck_corruptions(t):
    """Each of many corruptions of a good image (bitmap, shared and stray
    blocks, link counts, entries naming free inodes, orphans, ".", "..",
    directory hard links and cycles, names, sizes, types, the superblock)
    makes fsck exit with status 1, print a line naming the problem and end
    with "N problems"; past 50 problems it prints "... and K more"."""
    build_tool(t, "mkfs")
    build_tool(t, "fsck")
    with tempfile.TemporaryDirectory() as tmp:
        base, info = fsck_base(t, tmp)
        readme, data, ind, big = info["README"], info["data"], info["indirect"], info["big"]
        d, e, console = info["d"], info["e"], info["console"]
        sb = base.sb
        ds, size = base.datastart, sb["size"]
        spare = base.free_inode()  # an inode no one uses
        free_block = base.free_block()
        region = rf"outside the data region \[{ds}, {size}\)"

        def addr(inum, i):
            return base.inode(inum)["addrs"][i]

        dind = addr(big, NDIRECT + 1)  # the big file's double-indirect block
        cases = [
            ("a used block's bitmap bit cleared",
             lambda k: k.set_bit(addr(data, 1), False),
             rf"block {addr(data, 1)} \(used by inode {data}\) is not marked in use in the bitmap"),
            ("a free data block's bitmap bit set",
             lambda k: k.set_bit(size - 1),
             rf"block {size - 1} is marked in use but no inode uses it"),
            ("two inodes sharing a block",
             lambda k: k.set_addr(data, 0, addr(readme, 0)),
             rf"inode {data}: block {addr(readme, 0)} \(file block 0\) is also used by inode {readme}"),
            ("a shared indirect block",
             lambda k: k.set_addr(big, NDIRECT, addr(ind, NDIRECT)),
             rf"inode {big}: block {addr(ind, NDIRECT)} \(indirect block for file blocks 11-1034\) "
             rf"is also used by inode {ind}"),
            ("a file's nlink too high",
             lambda k: k.put_inode(data, nlink=2),
             rf"/data \(inode {data}\): nlink 2, expected 1"),
            ("a hard-linked file's nlink too low",
             lambda k: k.put_inode(readme, nlink=1),
             rf"/README \(inode {readme}\): nlink 1, expected 2"),
            ("a directory's nlink not counting its subdirectory",
             lambda k: k.put_inode(d, nlink=1),
             rf"/d \(inode {d}\): nlink 1, expected 2"),
            ("an entry naming a free inode",
             lambda k: k.set_entry(ROOTINO, k.index(ROOTINO, "data"), "data", spare),
             rf"/data: names free inode {spare}"),
            ("an entry naming an inode past the last",
             lambda k: k.set_entry(ROOTINO, k.index(ROOTINO, "data"), "data", sb["ninodes"] + 5),
             rf"/data: names inode {sb['ninodes'] + 5}, past the last inode \({sb['ninodes'] - 1}\)"),
            ("an orphan (allocated, not named)",
             lambda k: k.put_inode(spare, type=T_FILE, nlink=1),
             rf"inode {spare} \(file, nlink 1, size 0\) is allocated but no entry reachable from the "
             rf"root names it: an orphan"),
            ("a file whose entry was cleared",
             lambda k: k.set_entry(ROOTINO, k.index(ROOTINO, "data"), "data", 0),
             rf"inode {data} \(file, nlink 1, size {len(info['contents']['data'])}\) is allocated but "
             rf"no entry reachable from the root names it: an orphan"),
            ("a direct address in the log",
             lambda k: k.set_addr(data, 0, sb["logstart"] + 3),
             rf"inode {data}: block {sb['logstart'] + 3} \(file block 0\) is {region}"),
            ("an indirect address past the image",
             lambda k: k.set_addr(ind, NDIRECT, size + 100),
             rf"inode {ind}: block {size + 100} \(indirect block for file blocks 11-1034\) is {region}"),
            ("an address in the double-indirect block in the inode table",
             lambda k: k.put_word(dind, 0, sb["inodestart"]),
             rf"inode {big}: block {sb['inodestart']} \(indirect block for file blocks 1035-2058\) "
             rf"is {region}"),
            ("a block past the end of the file",
             lambda k: (k.set_addr(readme, 3, free_block), k.set_bit(free_block)),
             rf"inode {readme}: block {free_block} \(file block 3\) lies past the end of the file "
             rf"\(size {len(info['contents']['README'])}\)"),
            ('"." naming another inode',
             lambda k: k.set_entry(ROOTINO, 0, ".", readme),
             rf'/: "\." names inode {readme}, not the directory itself \(inode 1\)'),
            ('entry 0 not "."',
             lambda k: k.set_entry(e, 0, "x", e),
             r'/d/e: entry 0 is not "\."'),
            ('".." naming the grandparent',
             lambda k: k.set_entry(e, 1, "..", ROOTINO),
             rf'/d/e: "\.\." names inode 1, not its parent \(inode {d}\)'),
            ("a directory with two names",
             lambda k: k.add_entry(ROOTINO, "e2", e),
             rf"/e2: names directory inode {e}, already named /d/e \(a directory has one name\)"),
            ("a cycle",
             lambda k: k.add_entry(e, "up", d),
             rf"/d/e/up: names directory inode {d}, already named /d \(a directory has one name\)"),
            ("a directory naming the root",
             lambda k: k.add_entry(d, "root", ROOTINO),
             r"/d/root: names directory inode 1, already named / \(a directory has one name\)"),
            ("two entries with one name",
             lambda k: k.set_entry(ROOTINO, k.index(ROOTINO, "data"), "README", data),
             r'/: two entries are named "README"'),
            ("a name not padded with NULs",
             lambda k: k.set_entry(d, k.index(d, "link"), b"link\0x", readme),
             r"/d: entry 3: the name is not padded with NULs"),
            ("a directory size not a multiple of 16",
             lambda k: k.put_inode(d, size=4 * DIRENT_SIZE + 5),
             r"/d: directory size 69 is not a multiple of 16"),
            ("a device with a block",
             lambda k: (k.set_addr(console, 0, free_block), k.set_bit(free_block)),
             rf"inode {console}: a device, but addrs\[0\] is block {free_block} \(a device has no blocks\)"),
            ("a free inode with links",
             lambda k: k.put_inode(spare, nlink=1),
             rf"free inode {spare} has nlink 1"),
            ("an unknown inode type",
             lambda k: k.put_inode(spare, type=7, nlink=1),
             rf"inode {spare} has unknown type 7"),
            ("inode 0 in use",
             lambda k: k.put_inode(0, type=T_FILE),
             r"inode 0 has type 2, but inode 0 is never used"),
            ("the root a file",
             lambda k: k.put_inode(ROOTINO, type=T_FILE),
             r"the root \(inode 1\) is not a directory: type 2"),
            ("a metadata block not marked",
             lambda k: k.set_bit(sb["inodestart"], False),
             rf"metadata block {sb['inodestart']} is not marked in use in the bitmap"),
            ("a bit set past the end of the image",
             lambda k: k.set_bit(size + 10),
             rf"the bitmap marks block {size + 10}, past the end of the image \({size} blocks\)"),
            ("the inode table moved",
             lambda k: struct.pack_into("<I", k.data, BSIZE + 24, sb["inodestart"] + 1),
             rf"superblock: inodestart is {sb['inodestart'] + 1}, not logstart \+ nlog = {sb['inodestart']}"),
            ("a data region too long",
             lambda k: struct.pack_into("<I", k.data, BSIZE + 8, sb["nblocks"] + 1),
             rf"superblock: the bitmap .* end at block {size + 1}, not at size {size}"),
        ]
        for what, corrupt, rx in cases:
            disk = base.copy()
            corrupt(disk)
            image = disk.save(os.path.join(tmp, "bad.img"))
            status, out, err = fsck(t, image)
            full = rf"^fsck: {re.escape(image)}: {rx}$"
            n = re.search(r"^fsck: \S+: (\d+) problems\n\Z", out, re.M)
            t.check(status == 1 and re.search(full, out, re.M) and n and err == "",
                    f"{what}: status {status}, output\n{out}stderr {err!r}\n"
                    f"want status 1, a line /{full}/ and a last line \"N problems\"")

        # Many problems: the first 50 are shown, then how many more.
        disk = base.copy()
        for b in range(ds, size):
            disk.set_bit(b, not disk.bit(b))
        image = disk.save(os.path.join(tmp, "bad.img"))
        status, out, _ = fsck(t, image)
        lines = out.splitlines()
        nbad = size - ds  # every data block
        t.check(status == 1 and len(lines) == 52 and lines[-2:] == [
                    f"fsck: {image}: ... and {nbad - 50} more", f"fsck: {image}: {nbad} problems"],
                f"the bitmap inverted: status {status}, {len(lines)} lines, the last two {lines[-2:]}; "
                f"want 50 problems, '... and {nbad - 50} more', '{nbad} problems'")


@test(points=2, parent=fsck_builds, timeout=120)
def fsck_log(t):
    """A committed transaction in the log is installed in memory before the
    check and reported ("replayed N blocks from the log (in memory)"): one
    creating a file consistently is clean and -l shows the file; one
    rewriting a block unchanged is clean; one fixing a broken bitmap makes
    it clean; one breaking it is found; a header with too many blocks or a
    home block outside the inode table, bitmap and data is a problem and is
    not installed. The image itself is never changed."""
    build_tool(t, "mkfs")
    build_tool(t, "fsck")
    with tempfile.TemporaryDirectory() as tmp:
        base, info = fsck_base(t, tmp)
        sb = base.sb

        def run(what, disk, status_want, *rxs, args=()):
            image = disk.save(os.path.join(tmp, "log.img"))
            status, out, err = fsck(t, *args, image)
            t.check(status == status_want, f"{what}: exit status {status}, not {status_want}")
            for rx in rxs:
                t.check(re.search(rf"^{rx}$", out, re.M), f"{what}: no line /{rx}/ in\n{out}")
            t.check(err == "", f"{what}: stderr {err!r}")
            with open(image, "rb") as f:
                t.check(f.read() == disk.data, f"{what}: fsck changed the image")
            return out

        def replayed(n):
            return rf"fsck: \S+: replayed {n} blocks from the log \(in memory\)"

        clean = r"fsck: \S+: clean: .*"
        # A new file /d/new: its inode, the bitmap, its data block, /d's entry.
        after = base.copy()
        content = noise(3000, 30)
        after.create(info["d"], "new", content)
        disk = log_transaction(base, after)
        nblocks = struct.unpack_from("<I", disk.data, sb["logstart"] * BSIZE)[0]
        t.check(nblocks == 4, f"the new file's transaction has {nblocks} blocks, not 4")
        out = run("a transaction creating /d/new", disk, 0, replayed(nblocks), clean,
                  rf"/d/new file 3000 1 {fnv1a(content)}", args=["-l"])
        t.check(out.index("replayed") < out.index("clean"), "the replay is not reported first")
        run("the same image without the transaction", base, 0, clean)

        ds = base.datastart
        run("a transaction rewriting a block unchanged", log_transaction(base, base, [ds]), 0,
            replayed(1), clean)

        broken = base.copy()
        used = base.inode(info["data"])["addrs"][0]
        broken.set_bit(used, False)
        problem = (rf"fsck: \S+: block {used} \(used by inode {info['data']}\) is not marked in use "
                   r"in the bitmap")
        run("the bitmap broken", broken, 1, problem)
        run("a transaction fixing the bitmap", log_transaction(broken, base), 0, replayed(1), clean)
        run("a transaction breaking the bitmap", log_transaction(base, broken), 1, replayed(1), problem)

        disk = log_transaction(base, broken)
        struct.pack_into("<I", disk.data, sb["logstart"] * BSIZE, LOGSIZE + 1)
        out = run("a log header with n = 31", disk, 1,
                  rf"fsck: \S+: log header: n is {LOGSIZE + 1}, but a transaction holds at most "
                  rf"{LOGSIZE} blocks \(not replayed\)", r"fsck: \S+: 1 problems")
        t.check("replayed" not in out.replace("not replayed", ""), "a bad log header was replayed")
        disk = log_transaction(base, base, [ds, SUPERBLK])
        run("a log header with the superblock as a home", disk, 1,
            rf"fsck: \S+: log header: block\[1\] is {SUPERBLK}, outside the inode table, bitmap "
            rf"and data \[{sb['inodestart']}, {sb['size']}\) \(not replayed\)")


@test(points=1, parent=fsck_builds, timeout=60)
def fsck_usage(t):
    """Bad usage, a file that cannot be read, and a file that is not an
    rvexo image (too short, wrong magic, shorter than its superblock says)
    make fsck print one line on stderr, nothing on stdout, and exit with
    status 2."""
    build_tool(t, "mkfs")
    build_tool(t, "fsck")
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "fs.img")
        mkfs(t, image)
        with open(image, "rb") as f:
            good = f.read()
        short = write(os.path.join(tmp, "short"), b"x" * 100)
        random_img = write(os.path.join(tmp, "random"), noise(3 * BSIZE, 40))
        truncated = write(os.path.join(tmp, "truncated"), good[:10 * BSIZE])
        cases = [
            ([], r"usage: fsck \[-l\] IMAGE"),
            (["-l"], r"usage: fsck \[-l\] IMAGE"),
            (["-x", image], r"usage: fsck \[-l\] IMAGE"),
            ([image, image], r"usage: fsck \[-l\] IMAGE"),
            (["-l", "-l", image], r"usage: fsck \[-l\] IMAGE"),
            ([os.path.join(tmp, "missing")], r"cannot read \S+/missing: No such file or directory"),
            ([tmp], rf"cannot read {re.escape(tmp)}: Is a directory"),
            ([short], r"\S+/short: not an rvexo file system: too short for a superblock"),
            ([random_img], r"\S+/random: not an rvexo file system: magic 0x[0-9a-f]+, not 0x52564653"),
            ([truncated], rf"\S+/truncated: truncated: {10 * BSIZE} bytes, but the superblock says "
                          r"2048 blocks of 4096"),
        ]
        for args, rx in cases:
            status, out, err = fsck(t, *args)
            t.check(status == 2 and out == "" and re.fullmatch(rf"fsck: {rx}\n", err),
                    f"fsck {' '.join(args)}: status {status}, stdout {out!r}, stderr {err!r}; "
                    f"want status 2 and /fsck: {rx}/")
