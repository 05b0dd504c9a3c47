"""gradelib: the library that lab tests are written with, and the runner
behind ./grade-lab.

Running the tests
-----------------
    ./grade-lab                    every lab (also: ./grade-lab all)
    ./grade-lab boot               one lab
    ./grade-lab boot banner gdb    tests of lab boot matching "banner" or "gdb"
    ./grade-lab panic              tests of any lab matching "panic"
    make grade LAB=boot T="banner gdb"

A filter matches a test if it equals the test's name (or lab/name), is a
substring of it, or matches it as a shell pattern ("panic_*"); a filter
"lab/name" equal to a test's selects that test alone. If the first word is
not the name of a lab, every word is a filter over all labs. A filter that
matches no test is an error.

Grading one whole lab (`./grade-lab fork`) also runs, after its own tests,
the tests of the labs before it in LAB_ORDER (selftest aside): a lab must
not break an earlier one. Their results are shown apart and do not count
in the lab's score, but a failure among them fails the run (status 1).
--no-earlier leaves them out.

Options: --list (print "lab/name (points)" for the selected tests and stop),
-v/--verbose (show each machine's output as it arrives), --json FILE
(write the results as JSON, see below), --gradescope FILE (write them in
the results.json format of Gradescope's autograder: each test's score,
max_score and, for a failure, what was shown under it), --no-earlier (see
above), --no-build (do not run `make -s`),
--labs-dir DIR (where the labs are; default: labs/ next to grade-lab),
--log-dir DIR (where logs of failed tests go; default: build/grade/ beside
the labs directory, i.e. build/grade/ of the repository), --no-record (see
below; also the environment variable RECORD=0).

Each test prints one line: PASS or FAIL with its points and time, or SKIP
when its parent test did not pass (or it called t.skip(reason): something it
needs is missing here). Under a failing test come the missing
and unexpected lines; "the machine said:" and the lines of the machines'
output that explain a failure (EXPLAIN: panics and their backtraces,
destroyed environments, unhandled faults, asserts, FAIL lines); the hints
(see below); and the commands that run it alone. Everything the machine
printed, in every run of that test, is saved to build/grade/<lab>-<test>.log (the log is
deleted when the test passes again). Each test boots on its own copy of
the disk image, build/grade/<lab>-<test>.img (kept only when it fails).
Every machine t.qemu boots is recorded with QEMU's record/replay (see
_Recorder) into build/grade/<lab>-<test>.rr/, kept only when the test
fails; the line "replay it: make replay T=lab/test" under a failed test
is the command that runs that very machine again (labs/replay.py), or
"no replay: WHY" says why it cannot be: a machine of several harts (QEMU
records one), a disk in -snapshot mode, one run under GDB (t.gdb), a boot
the test keeps from being recorded (norecord=), or recording off
(--no-record). A recorded machine the test types at (send=) is typed at
no faster than its kernel takes the input (see _Typist). The last two
lines are "Score: X/Y points" and "N passed, N failed" (", N skipped" is
added when tests were skipped). The exit status is 0 when no test failed,
1 when one did, 2 when the grader could not run (the build failed, a
tests.py does not load), 130 when interrupted.

The first test that boots QEMU builds the kernel with `make -s` (unless
--no-build); tests that boot no QEMU need no build. Only t.gdb() uses a
TCP port, one that is free at the time (not this user's `make qemu-gdb`
port): graders in several clones, a forgotten `make qemu-gdb` and the
tests themselves never get in each other's way.

--json FILE writes {"results": [...], "totals": {...}}: one record per
selected test, in order, with lab, name, status ("pass", "fail" or
"skip"), points (earned), max_points, seconds, output_file (the absolute
path of the saved log, or null), messages (what was shown for it, hints
as "hint: ..."), machine_said (the explaining lines) and, for an earlier
lab's test, earlier: true; the totals count the selected tests' passed,
failed, skipped, points and max_points.

A machine run ends early, FATAL_GRACE seconds after a line that decides
it (fatal, by default FATAL: a kernel panic, an ExOS panic or failed
assertion, a FAIL line), so a failing test does not wait out its limit.

Time limits: every time limit is multiplied by the environment variable
GRADE_TIME_SCALE (a positive number, default 1); on a slow machine run
`GRADE_TIME_SCALE=3 ./grade-lab`. Reaching a time limit is not a failure by
itself: the machine is stopped and its output checked as usual; the note
"time limit (Ns) reached" is shown if the test then fails.

Writing tests
-------------
A lab is a directory labs/<lab>/ with a tests.py. Labs run in the order of
LAB_ORDER below; other labs follow, alphabetically. In tests.py:

    from gradelib import *

    @test(points=5, timeout=10)
    def banner(t):
        out = t.qemu()
        t.expect(out, r"^rvexo: exokernel", r"init: hello")
        t.forbid(out, r"panic")

    @test(points=5, parent=banner)     # skipped unless banner passed
    def panic_backtrace(t):
        out = t.qemu(bootargs="ktest=panic")
        t.expect(out, r"backtrace:", r"ktest_panic\\+0x")

@test(points=1, timeout=30, parent=None, name=None, hint=None) registers the function
as a test of the lab, in the order of definition. name defaults to the
function's name and must be unique in the lab. timeout is the time limit of
each machine run in the test, in seconds. parent is an earlier test (the
decorated function, or its name): if the parent ran in this grader run and
did not pass, this test is skipped. A parent left out by the filters does
not stop its children from running. hint is shown whenever the test
fails: what a student who fails it most likely got wrong.

The test function gets a context t:

t.qemu(bootargs="", send=(), stop=None, timeout=None, extra_args=(), fatal=FATAL,
       norecord=None)
    Boot the kernel: the QEMU command line printed by `make -s print-qemu`,
    then "-append BOOTARGS" if bootargs is not empty, then extra_args. A
    -netdev in extra_args replaces the command line's own (same id, net0).
    The boot is recorded (see above) unless norecord gives a reason why it
    must not be: recording runs the machine under -icount shift=0, and
    QEMU's record mode moves the virtual clock on by itself while the
    machine waits for the disk, so a deadline in virtual time that races
    the disk may expire first.
    Returns everything the machine printed (see t.run). The first QEMU of a
    grader run builds the kernel (`make -s`) first. The run ends soon after
    a line matching fatal (None: no such end); a test whose machine must
    print such lines passes its own.
t.run(argv, input=None, timeout=None, send=(), stop=None, cwd=None, env=None, fatal=None)
    Run any command the same way (cwd defaults to the repository root; env
    adds variables to the environment). input is written to its stdin at
    the start (stdin is then closed unless there are sends). send is a list
    of (regex, text): wait until regex matches the output that came after
    the previous send's match, then type text; one after the other. The run
    ends when the program exits, when the regex stop matches the output
    (checked once all sends are made), FATAL_GRACE seconds after a line
    matching fatal, or at the time limit (timeout, or
    the test's, times GRADE_TIME_SCALE); the program and everything it
    started is then killed. Returns the output (stdout and stderr, decoded
    as UTF-8, "\\r" removed): a str with extra attributes returncode
    (negative: killed by that signal), stopped (stop matched), timed_out,
    ended_early (fatal matched), and seconds.
t.gdb(commands, bootargs="", timeout=None, extra_args=()) -> (gdb_output, qemu_output)
    Boot QEMU halted, waiting for GDB on a free port of 127.0.0.1, then run
    the GDB of `make -s print-gdb` in batch mode with .gdbinit.tmpl filled
    in for that port (written beside the test's log, removed after) and
    each command as an -ex argument. QEMU is killed when GDB exits. The
    time limit counts from QEMU's start to GDB's end.
t.expect(out, *regexes)   each regex must match somewhere in out
t.forbid(out, *regexes)   no regex may match; each matching line is reported
t.check(cond, message)    report message if cond is false; returns cond
t.note(message)           a remark shown only if the test fails
t.fail(message)           report message and end the test now
t.check_answers(path)     report each question ("## Qn. ...") of an answers
                          file that has no answer of ten words or more
t.hint(message)           a hint shown, after the reports, if the test fails
t.hint_if(out, rx, msg)   t.hint(msg) if rx matches out: name the mistake
                          behind a symptom ("a shared page was made writable
                          in place: did you check mapcount?")

All regexes are Python regexes in MULTILINE mode: ^ and $ match at the
start and end of every line. Reports do not stop the test, so a failing
test lists everything that is wrong; an exception raised in the test is
reported too. A test passes if nothing was reported.
"""

import argparse
import codecs
import fnmatch
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

__all__ = ["test", "ONE_HART", "smpbench_quick"]

# The extra arguments of a boot that measures, or shows, one hart whatever
# CPUS says (QEMU takes the last -smp): exobench refuses several (under
# -icount rdinstret counts every hart's instructions, and the fast paths
# exist only with one), and make bench and make demo boot one.
ONE_HART = ["-smp", "1"]


def smpbench_quick(t):
    """Boot four harts into `smpbench quick` (make bench's scaling rows)
    under -icount shift=0,sleep=off, where QEMU runs the harts in turn and
    every count is the same each run. Returns its output and its scaling
    rows: (processes, instructions a fork-exit-wait, every hart's) for each
    fork-exit-wait-N row, in order."""
    out = t.qemu(bootargs="init=smpbench quick", norecord="a machine of four harts",
                 extra_args=["-smp", "4", "-icount", "shift=0,sleep=off"])
    rows = [(int(n), int(per_op)) for n, per_op in
            re.findall(r"^fork-exit-wait-(\d) +\d+ +(\d+) ", out, re.M)]
    return out, rows


LAB_ORDER = ["selftest", "boot", "bindings", "kernel", "mkfs", "upcalls", "fork", "sched",
             "threads", "ipc", "shell", "fs", "revoke", "net", "network", "smp"]

# The lines that decide a machine run at once (t.qemu's default fatal): a
# kernel panic, an ExOS panic or failed assertion, a test's FAIL line.
FATAL = r"^panic|: panic: |: assertion failed: |\bFAIL\b|checks FAILED"
FATAL_GRACE = 1.0      # seconds a run goes on after a fatal line, for its backtrace

# The lines that explain a failure, shown under it: kernel and ExOS
# reports, panics with their backtraces, asserts, FAIL lines.
EXPLAIN = re.compile(r"panic|assertion failed|unhandled|destroyed:|FAIL|did not answer|"
                     r"^backtrace:|^  #\d+ 0x|^  (sepc|stval) |^rvexo: .*(error|refused|killed)",
                     re.MULTILINE)
EXPLAIN_MAX = 12       # lines shown at most; the log has the rest

# The repository: this file is labs/gradelib.py in it.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_LABS = {}             # lab name -> [Test], in definition order
_loading_lab = None    # the lab whose tests.py is being executed
_LIVE = set()          # _Process objects not yet stopped
_midline = False       # stdout holds a test's name, its result still to come


class GradeError(BaseException):
    """The grader cannot go on (build failed, a lab does not
    load). main() prints the message and exits with status 2. A
    BaseException, so that a test's `except Exception` cannot swallow it."""


class _StopTest(BaseException):
    """Raised by t.fail() to end the test; caught by the runner."""


class _SkipTest(BaseException):
    """Raised by t.skip(reason): the test cannot run here; caught by the runner."""


# ---------------------------------------------------------------- registry

class Test:
    """A registered test: lab and name, points, timeout (seconds before
    scaling), parent (a Test or None), doc, and the function fn(t)."""

    def __init__(self, lab, name, points, timeout, parent, fn, hint=None):
        """Record the test's attributes; registering is test()'s job."""
        self.lab, self.name, self.fn = lab, name, fn
        self.points, self.timeout, self.parent = points, timeout, parent
        self.hint = hint
        self.doc = (fn.__doc__ or "").strip()

    @property
    def fullname(self):
        """The name "lab/name" that output and filters use."""
        return f"{self.lab}/{self.name}"

    def __repr__(self):
        """<test lab/name>, for debugging."""
        return f"<test {self.fullname}>"


def test(points=1, timeout=30, parent=None, name=None, hint=None):
    """Decorator registering fn(t) as a test of the lab whose tests.py is
    being loaded; returns the Test (usable as another test's parent).
    hint, if given, is shown under the test whenever it fails.
    Also accepted bare, as @test. Raises ValueError on a duplicate name or
    an unknown parent."""
    if callable(points) and not isinstance(points, Test):
        return test()(points)

    def register(fn):
        """Append a Test for fn to the loading lab and return it."""
        lab = _loading_lab
        if lab is None:
            raise RuntimeError("@test is for labs/<lab>/tests.py, loaded by grade-lab")
        tests = _LABS.setdefault(lab, [])
        tname = name or fn.__name__
        if any(t.name == tname for t in tests):
            raise ValueError(f"lab {lab}: two tests named {tname}")
        t = Test(lab, tname, points, timeout, _resolve_parent(lab, tests, parent), fn, hint)
        tests.append(t)
        return t
    return register


def _resolve_parent(lab, tests, parent):
    """Return the Test that parent names: None, a Test, or the name of an
    earlier test of the same lab. Raises ValueError otherwise."""
    if parent is None or isinstance(parent, Test):
        return parent
    for t in tests:
        if parent in (t.name, t.fullname):
            return t
    raise ValueError(f"lab {lab}: parent {parent!r} is not an earlier test of the lab")


def discover_labs(labs_dir):
    """Names of the labs in labs_dir (its subdirectories holding a tests.py):
    those in LAB_ORDER in that order, then the others alphabetically."""
    try:
        entries = os.listdir(labs_dir)
    except OSError as e:
        raise GradeError(f"cannot read the labs directory {labs_dir}: {e.strerror}")
    found = {d for d in entries if os.path.isfile(os.path.join(labs_dir, d, "tests.py"))}
    return [lab for lab in LAB_ORDER if lab in found] + sorted(found - set(LAB_ORDER))


def load_lab(labs_dir, lab):
    """Execute labs_dir/lab/tests.py (once) and return its tests in
    definition order. Raises GradeError if the file fails to load."""
    global _loading_lab
    if lab in _LABS:
        return _LABS[lab]
    path = os.path.join(labs_dir, lab, "tests.py")
    modname = "labtests_" + re.sub(r"\W", "_", lab)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    _LABS[lab] = []
    _loading_lab = lab
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del _LABS[lab]
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        where = f"line {frames[-1].lineno}: " if frames else ""
        what = "".join(traceback.format_exception_only(type(e), e)).rstrip()
        sep = "\n" if "\n" in what else " "
        raise GradeError(f"cannot load {path}:{sep}{where}{what}")
    finally:
        _loading_lab = None
    sys.modules[modname] = module
    return _LABS[lab]


def matches(t, f):
    """True if filter f equals, is a substring of, or fnmatch-matches t's
    name or lab/name."""
    return any(f == n or f in n or fnmatch.fnmatchcase(n, f) for n in (t.name, t.fullname))


def select(tests, filters):
    """The tests that some filter matches (all tests if there are no
    filters), in order. A filter "lab/name" equal to a test's lab/name
    selects that test only, not those whose names it is a substring of.
    Raises GradeError naming any filter that matches no test."""
    if not filters:
        return list(tests)
    chosen = set()
    for f in filters:
        exact = [t for t in tests if f == t.fullname]
        found = exact or [t for t in tests if matches(t, f)]
        if not found:
            raise GradeError(f"no test matches {f!r} (./grade-lab --list shows them)")
        chosen.update(found)
    return [t for t in tests if t in chosen]


# ---------------------------------------------------------------- processes

def _compile(rx):
    """A compiled regex for rx (a str or already compiled), MULTILINE mode."""
    return rx if isinstance(rx, re.Pattern) else re.compile(rx, re.MULTILINE)


def _show(rx):
    """A regex as shown in messages: /pattern/."""
    return "/" + (rx.pattern if isinstance(rx, re.Pattern) else rx) + "/"


class _Process:
    """A command run in its own process group (its own session) with a pipe
    as stdin; a thread collects stdout and stderr as text. The process is in
    _LIVE until stop(), which ends the whole group; call stop() in a
    finally clause."""

    def __init__(self, argv, cwd=None, env=None, echo=None, typist=None):
        """Start argv in cwd with environment env (None: ours); echo(text),
        if given, is called with output as it arrives; typist, if given,
        types the sends (see _Typist). Raises OSError if argv cannot be
        started."""
        self.argv = [str(a) for a in argv]
        self.typist = typist
        self._text, self._eof = "", False
        self.raw = bytearray()   # the output's bytes, as they came
        self._cond = threading.Condition()
        self._echo = echo
        self.started = time.monotonic()
        self.popen = subprocess.Popen(self.argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        """Reader thread: decode output as it comes (UTF-8, bad bytes
        replaced, "\\r" dropped), echo it if asked, and wake waiters; mark
        EOF when every writer has closed the pipe."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = self.popen.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            text = decoder.decode(data, final=not data).replace("\r", "")
            if text and self._echo:
                self._echo(text)
            with self._cond:
                self._text += text
                self.raw += data
                self._eof = not data
                self._cond.notify_all()
            if not data:
                return

    def output(self):
        """Everything the process has printed so far."""
        with self._cond:
            return self._text

    def exited(self):
        """True once the process has exited. It is not reaped (where the OS
        allows), so its process group id stays ours until stop()."""
        if self.popen.returncode is not None:
            return True
        if not hasattr(os, "waitid"):
            return self.popen.poll() is not None
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.popen.pid, flags) is not None
        except ChildProcessError:
            return True

    def write(self, data):
        """Write data (str or bytes) to the process's stdin; False if the
        process no longer reads it."""
        if isinstance(data, str):
            data = data.encode()
        try:
            self.popen.stdin.write(data)
            self.popen.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def close_stdin(self):
        """Close the process's stdin (it reads EOF)."""
        try:
            self.popen.stdin.close()
        except OSError:
            pass

    def interact(self, sends, stop, deadline, fatal=None):
        """Make the sends ([(compiled regex, text)], in order: each waits for
        its regex in the output after the previous one's match), then watch
        for stop (a compiled regex or None). A line matching fatal (a
        compiled regex or None) decides the run: it ends FATAL_GRACE
        seconds later, so that the lines explaining it (a backtrace) come
        too. Returns (how, unsent): how is "exit" (process ended), "stop"
        (stop matched), "fatal" (fatal matched) or "time" (the monotonic
        deadline passed); unsent is how many sends were not made."""
        pending, mark, exited_at, scanned, fatal_at = list(sends), 0, None, 0, None
        stop_at = None
        while True:
            with self._cond:
                text, eof = self._text, self._eof
            while pending:
                m = pending[0][0].search(text[mark:])
                if not m:
                    break
                mark += m.end()
                text_to_type = pending.pop(0)[1]
                if self.typist:
                    self.typist.type(self, text_to_type)
                else:
                    self.write(text_to_type)
            now = time.monotonic()
            m = stop.search(text) if not pending and stop is not None else None
            if m:
                # A match that ends the output so far may be a line still
                # being written ("...off" of "...off\n"): give it a moment.
                stop_at = stop_at or now
                if m.end() < len(text) or text.endswith("\n") or now - stop_at >= 0.2:
                    return "stop", 0
            if fatal is not None and fatal_at is None:
                lines_end = text.rfind("\n") + 1
                if fatal.search(text, scanned, lines_end):
                    fatal_at = now
                scanned = max(scanned, lines_end)
            if self.exited():
                # Wait briefly for the last output, unless a left-behind
                # child keeps the pipe open.
                exited_at = exited_at or now
                if eof or now - exited_at > 0.5:
                    return "exit", len(pending)
            if fatal_at is not None and now - fatal_at >= FATAL_GRACE:
                return "fatal", len(pending)
            if now >= deadline:
                return "time", len(pending)
            with self._cond:
                if len(self._text) == len(text):
                    self._cond.wait(min(deadline - now, 0.05))

    def _killpg(self, sig):
        """Send sig to the process's group, if it still exists."""
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self):
        """End the process and everything in its group (SIGTERM, then
        SIGKILL after 1 s), reap it, and return its exit status (negative:
        the signal that killed it). Safe to call twice."""
        if self.popen.returncode is None:
            if not self.exited():
                self._killpg(signal.SIGTERM)
                until = time.monotonic() + 1
                while not self.exited() and time.monotonic() < until:
                    time.sleep(0.02)
            # The leader is at worst a zombie, so the group is still ours.
            self._killpg(signal.SIGKILL)
            self.popen.wait()
        self._reader.join(2)
        self.close_stdin()
        if not self._reader.is_alive():
            self.popen.stdout.close()
        _LIVE.discard(self)
        return self.popen.returncode


def _stop_all():
    """Stop every process still running (on interrupt or fatal error)."""
    for proc in list(_LIVE):
        proc.stop()


class Output(str):
    """What a run printed, as a str, with how it ended: returncode (None if
    unknown, negative if killed by a signal), stopped (the stop regex
    matched), timed_out (the time limit was reached), ended_early (a fatal
    line ended it), seconds (run time)."""
    returncode = None
    stopped = False
    timed_out = False
    ended_early = False
    seconds = 0.0
    raw = b""          # the output's bytes, before decoding


# ---------------------------------------------------------------- recording

def _is_qemu(argv):
    """True if argv runs a QEMU system emulator (the self-test's fake
    machines are not recorded)."""
    return os.path.basename(argv[0]).startswith("qemu-system-")



def _unrecordable(argv):
    """Why QEMU cannot record the machine argv boots, or None if it can."""
    smp = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-smp"]
    if smp and smp[-1].split(",")[0] not in ("1", "cpus=1"):
        return f"QEMU records machines of one hart only (this one has -smp {smp[-1]})"
    if "-snapshot" in argv:
        return "QEMU does not record a machine whose disk is in -snapshot mode"
    return None


def _sparse_copy(src, dst, block=4096):
    """Copy file src to dst, leaving holes where src has blocks of zeros
    (a fresh disk image is mostly zeros: its copy takes a quarter of the
    space)."""
    zero = bytes(block)
    with open(src, "rb") as f, open(dst, "wb") as g:
        while True:
            data = f.read(block)
            if not data:
                break
            if data == zero:
                g.seek(len(data), os.SEEK_CUR)
            else:
                g.write(data)
        g.truncate()


class _Typist:
    """Types into a recorded machine no faster than its kernel takes the
    input. QEMU's record mode hands a typed byte to the UART only at its
    next checkpoint, and meanwhile reads as many as the UART had room for
    before: a line typed at once overflows the UART's 16-byte FIFO and
    loses its end, newline and all (the machine then waits for it
    forever; the recording is faithful to that). So the typist types at
    most FIFO bytes at a time and waits until the kernel has taken them
    into its input ring: it watches sysinfo.console_write through QEMU's
    monitor (QMP on a socket of its own, which the recording does not
    see). Bytes the kernel drops (its ring full: nobody reads) are waited
    for WAIT seconds, then typing goes on, as it would unrecorded."""

    FIFO = 16
    WAIT = 2.0
    _layouts = {}  # (kernel, its mtime) -> (address of &sysinfo, offset of console_write)

    def __init__(self, gdb, kernel):
        """A typist for a machine booting kernel (a path), whose layout
        gdb (a program) reads; its QMP socket is self.socket."""
        key = (kernel, os.path.getmtime(kernel))
        if key not in _Typist._layouts:
            out = subprocess.run([gdb, "-q", "-nx", "-batch", kernel,
                                  "-ex", "print/x (unsigned long)&sysinfo",
                                  "-ex", "print/x (unsigned long)&sysinfo->console_write"
                                         " - (unsigned long)sysinfo"],
                                 capture_output=True, text=True, timeout=60).stdout
            found = re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)
            if len(found) != 2:
                raise GradeError(f"{gdb} found no sysinfo.console_write in {kernel}")
            _Typist._layouts[key] = (int(found[0], 16), int(found[1], 16))
        self._sysinfo, self._offset = _Typist._layouts[key]
        self._dir = tempfile.mkdtemp(prefix="rvexo-qmp-")
        self.socket = os.path.join(self._dir, "qmp")
        self._qmp, self._counter = None, None

    def _read(self, kva):
        """The 8 bytes of guest memory at kernel address kva (the direct map)."""
        import view
        said = self._qmp.command("human-monitor-command",
                                 **{"command-line": f"xp /1gx {kva - view.KERNBASE:#x}"})
        return int(said.split(":")[1].split()[0], 16)

    def taken(self, proc):
        """How many bytes the kernel has taken from the UART so far."""
        if self._qmp is None:
            import view
            self._qmp = view.QMP(self.socket, proc.popen, time.monotonic() + 10)
            self._counter = self._read(self._sysinfo) + self._offset
        return self._read(self._counter)

    def type(self, proc, text):
        """Type text into proc's machine, FIFO bytes at a time."""
        data = text.encode() if isinstance(text, str) else text
        for i in range(0, len(data), self.FIFO):
            chunk = data[i:i + self.FIFO]
            try:
                target = self.taken(proc) + len(chunk)
                if not proc.write(chunk):
                    return
                until = time.monotonic() + self.WAIT
                while self.taken(proc) < target and time.monotonic() < until:
                    time.sleep(0.002)
            except (OSError, EOFError, RuntimeError):  # its monitor is gone: type the rest
                proc.write(data[i:])
                return

    def close(self):
        """Forget the machine (it has stopped)."""
        if self._qmp is not None:
            self._qmp.sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)


class _Recorder:
    """Records a test's boots with QEMU's record/replay (-icount
    shift=0,rr=record: every input the machine takes, and the instruction
    count at which it takes it), so that `make replay` can run the very same
    machine again, instruction for instruction. Boot K of the test leaves in
    DIR (build/grade/<lab>-<test>.rr/):
        runK.json   the boot's command line, and its replay's (run in DIR)
        runK.rr     the record of inputs (QEMU's rrfile)
        runK.out    the console's bytes
        runK.img    the disk as the boot found it (the replay reads a
                    throw-away overlay of it); kept, it has holes for
                    its blocks of zeros
        kernel      a hard link to the kernel booted (or a copy)
    The disk goes through blkreplay, which records the order in which its
    requests complete; the boot writes the test's disk as without
    recording. blkreplay hands the machine a finished request only at
    QEMU's next timer event: the kernel's idle loop sets one 20 us ahead
    while a request is out (kernel/sched.c), so a recorded boot that waits
    for the disk often runs only a little slower. The network goes through
    filter-replay: the replay's
    packets come from the record, whatever the test's network was. A test
    run under -icount keeps its shift. The grader removes DIR when the test
    passes."""

    def __init__(self, directory):
        """A recorder writing into directory (emptied first)."""
        self.dir = directory
        self.boots = 0
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)

    def _path(self, suffix):
        """The path of the current boot's file runK<suffix>."""
        return os.path.join(self.dir, f"run{self.boots}{suffix}")

    def start(self, argv, disk, typist=None):
        """Prepare the next boot of argv, whose disk is the file disk: save
        the disk as it is and the replay's command line; return the command
        line that records the boot. A boot typed at (typist: a _Typist) gets
        a console of its own, not shared with the monitor (QEMU records
        the input of that one), and typist's QMP socket."""
        self.boots += 1
        k = self.boots
        shutil.copyfile(disk, self._path(".img"))
        kernel = argv.index("-kernel") + 1
        if k == 1:
            src, dst = os.path.join(ROOT, argv[kernel]), os.path.join(self.dir, "kernel")
            try:
                os.link(src, dst)
            except OSError:  # another file system
                shutil.copyfile(src, dst)
        record, replay = [], []
        for i, arg in enumerate(argv):
            before = argv[i - 1] if i else ""
            if before == "-drive" and re.search(r"(^|,)id=disk0(,|$)", arg):
                opts = [o for o in arg.split(",") if not re.match(r"(file|id|format)=", o)]
                blk = "driver=blkreplay,if=none,image=rr-disk,id=disk0"
                record[-1:] = ["-drive", ",".join([f"file={disk}", "format=raw", "id=rr-disk"]
                                                  + opts), "-drive", blk]
                replay[-1:] = ["-drive", ",".join([f"file=run{k}.img", "format=raw", "id=rr-disk"]
                                                  + opts + ["snapshot=on"]), "-drive", blk]
                continue
            if before == "-icount" or arg == "-icount":
                continue
            if before == "-netdev":
                record += [arg, "-object", "filter-replay,id=rr-net,netdev=net0"]
                replay += ["user,id=net0,restrict=on,ipv6=off",
                           "-object", "filter-replay,id=rr-net,netdev=net0"]
                continue
            record.append(arg)
            replay.append("kernel" if i == kernel else arg)
        if typist:
            console = ["-serial", "stdio", "-monitor", "none"]
            record += console + ["-qmp", f"unix:{typist.socket},server=on,wait=off"]
            replay += console
        shift = argv[argv.index("-icount") + 1] if "-icount" in argv else "shift=0"
        record += ["-icount", f"{shift},rr=record,rrfile={self._path('.rr')}"]
        replay += ["-icount", f"{shift},rr=replay,rrfile=run{k}.rr"]
        with open(self._path(".json"), "w", encoding="utf-8") as f:
            json.dump({"boot": k, "argv": argv, "record": record, "replay": replay}, f, indent=1)
            f.write("\n")
        return record

    def keep(self):
        """The test failed and its recording stays: make the disks'
        copies sparse (a fresh image is three quarters zeros)."""
        for k in range(1, self.boots + 1):
            path = os.path.join(self.dir, f"run{k}.img")
            _sparse_copy(path, path + ".new")
            os.replace(path + ".new", path)

    def save_console(self, raw):
        """Save the boot's console output (bytes) as runK.out."""
        with open(self._path(".out"), "wb") as f:
            f.write(raw)


# ---------------------------------------------------------------- test context

class TestContext:
    """What a test function receives as t: runs machines, checks their
    output, and collects failures (shown, and failing the test), notes
    (shown only if the test fails), figures (shown either way: what a
    performance test measured) and the log of every run."""

    def __init__(self, test, runner):
        """A fresh context for one run of test under runner."""
        self.test = test
        self.failures, self.notes, self.runs, self.hints = [], [], [], []
        self.figures = []
        self._runner = runner
        self._disk, self._disk_copied = None, False
        self._machines = {}      # command line of each machine booted -> its argv unrecorded
        self._recorder = None    # the _Recorder of this test's boots, once one is recorded
        self._unrecorded = []    # why boots were not recorded

    # -- checks

    def expect(self, out, *regexes):
        """Report "missing: /regex/" for each regex that matches nowhere in out."""
        for rx in regexes:
            if not _compile(rx).search(out):
                self.failures.append(f"missing: {_show(rx)}")

    def forbid(self, out, *regexes):
        """Report "unexpected line: LINE" for each line where a regex
        matches (at most 10 lines per regex)."""
        for rx in regexes:
            lines = []
            for m in _compile(rx).finditer(out):
                start = out.rfind("\n", 0, m.start()) + 1
                end = out.find("\n", m.start())
                line = out[start:end if end >= 0 else len(out)]
                if line not in lines:
                    lines.append(line)
            for line in lines[:10]:
                self.failures.append(f"unexpected line: {line}")
            if len(lines) > 10:
                self.failures.append(f"... and {len(lines) - 10} more lines matching {_show(rx)}")

    def check(self, cond, message):
        """Report message if cond is false. Returns bool(cond)."""
        if not cond:
            self.failures.append(str(message))
        return bool(cond)

    def note(self, message):
        """Keep a remark to show if the test fails."""
        self.notes.append(str(message))

    def fail(self, message):
        """Report message and end the test at once."""
        self.failures.append(str(message))
        raise _StopTest()

    def skip(self, reason):
        """End the test at once as skipped (SKIP, no points, not a failure):
        what it needs is missing here; reason says what."""
        raise _SkipTest(reason)

    def check_answers(self, path, words=10):
        """Report each question of the answers file at path (a section
        "## Qn. ...") that has no answer of `words` words or more; lines of
        markers, quotes (">") and the placeholder "(your answer)" do not
        count."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            self.fail(f"cannot read {os.path.relpath(path, ROOT)}: {e.strerror}")
        for section in re.split(r"^## ", text, flags=re.M)[1:]:
            title, _, body = section.partition("\n")
            said = [w for line in body.splitlines()
                    if not re.match(r"\s*(//|>|\(your answer\))", line) for w in line.split()]
            if len(said) < words:
                self.failures.append(f"not answered yet in {os.path.relpath(path, ROOT)}: "
                                     f"{title.strip()}")

    def hint(self, message):
        """Keep a hint to show, after the failures, if the test fails: what
        a student's likely mistake is."""
        if str(message) not in self.hints:
            self.hints.append(str(message))

    def hint_if(self, out, rx, message):
        """hint(message) if rx matches somewhere in out (a symptom of
        the mistake it names). Returns whether it matched."""
        found = _compile(rx).search(out) is not None
        if found:
            self.hint(message)
        return found

    def instructions(self, row, target, reference):
        """Boot exobench for its row `row` under -icount shift=0, where a
        count of retired instructions is the same on every machine and run;
        note the figure beside the target and the reference's, and fail
        unless it is at most target. Returns the figure."""
        import bench
        out = self.qemu(bootargs=f"init=exobench bench=quick {row}",
                        extra_args=ONE_HART + ["-icount", "shift=0"])
        try:
            rows = {r["name"]: r for r in bench.parse(out)["rows"]}
        except ValueError as e:
            self.fail(f"{row}: {e}")
        figure = rows.get(row, {}).get("per_op")
        if figure is None:
            self.fail(f"{row}: exobench gave no figure")
        def show(v):
            """v with thousands separated and at most one decimal: 1,754,613 / 36.2"""
            return f"{v:,.1f}".removesuffix(".0")
        self.figures.append(f"{row}: {show(figure)} instructions (target {show(target)}, "
                            f"the reference {show(reference)})")
        self.check(figure <= target,
                   f"{row}: {show(figure)} instructions, more than the target {show(target)}")
        return figure

    # -- running

    def _limit(self, timeout):
        """The time limit in seconds: timeout (or the test's) times the scale."""
        return (self.test.timeout if timeout is None else timeout) * self._runner.scale

    def run(self, argv, input=None, timeout=None, send=(), stop=None, cwd=None, env=None,
            fatal=None):
        """Run argv until it exits, stop matches, a fatal line, or the time
        limit; answer prompts with send; return its Output (see the module
        docstring)."""
        return self._run(argv, input, timeout, send, stop, cwd, env, fatal)

    def _run(self, argv, input=None, timeout=None, send=(), stop=None, cwd=None, env=None,
             fatal=None, typist=None):
        """run(), with the sends typed by typist (a _Typist) if given."""
        limit = self._limit(timeout)
        sends = [(_compile(rx), text) for rx, text in send]
        stop_rx = None if stop is None else _compile(stop)
        fatal_rx = None if fatal is None else _compile(fatal)
        environ = None if env is None else {**os.environ, **{k: str(v) for k, v in env.items()}}
        proc = _Process(argv, cwd=cwd or ROOT, env=environ, echo=self._runner.echo,
                        typist=typist)
        try:
            if input is not None:
                proc.write(input)
                if not sends:
                    proc.close_stdin()
            how, unsent = proc.interact(sends, stop_rx, proc.started + limit, fatal_rx)
            seconds = time.monotonic() - proc.started
        finally:
            status = proc.stop()
            if typist:
                typist.close()
        if unsent:
            self.notes.append(f"never saw {_show(sends[-unsent][0])}, so "
                              f"{unsent} of {len(sends)} inputs were not typed")
        return self._record(proc, how, status, seconds, limit, stop_rx, fatal_rx)

    def _record(self, proc, how, status, seconds, limit, stop_rx, fatal_rx=None):
        """Log a finished run, note a reached time limit, and build its Output."""
        out = Output(proc.output())
        out.raw = bytes(proc.raw)
        out.returncode, out.seconds = status, seconds
        out.stopped, out.timed_out = how == "stop", how == "time"
        out.ended_early = how == "fatal"
        if how == "time":
            ending = f"time limit ({limit:g}s) reached"
            self.notes.append(ending)
        elif how == "stop":
            ending = f"stopped: {_show(stop_rx)} matched"
        elif how == "fatal":
            ending = f"ended early: a line matched {_show(fatal_rx)}"
        elif status is not None and status < 0:
            ending = f"killed by signal {-status}"
        else:
            ending = f"exited with status {status}"
        self.runs.append((shlex.join(proc.argv), f"{ending}, {seconds:.2f}s", str(out)))
        return out

    def machine_outputs(self):
        """What the machines this test booted printed (not other commands)."""
        return [output for command, _, output in self.runs if command in self._machines]

    def qemu(self, bootargs="", send=(), stop=None, timeout=None, extra_args=(), fatal=FATAL,
             norecord=None):
        """Boot the kernel in QEMU with bootargs and extra_args; see run().
        The disk is this test's own copy of the image (see disk()). The run
        ends soon after a line matching fatal (default FATAL; None: never).
        Unless recording is off or norecord says why this boot must not be
        recorded, it is recorded for `make replay` (see _Recorder)."""
        argv = self._with_disk(self._runner.qemu_command())
        if "-netdev" in extra_args and "-netdev" in argv:  # the test's network replaces ours
            del argv[argv.index("-netdev"):argv.index("-netdev") + 2]
        argv += (["-append", bootargs] if bootargs else []) + list(extra_args)
        why = "off" if not (self._runner.record and _is_qemu(argv)) else norecord
        why = why or _unrecordable(argv)
        typist = None
        if send and not why:
            try:
                typist = _Typist(self._runner.gdb_program(),
                                 os.path.join(ROOT, argv[argv.index("-kernel") + 1]))
            except (GradeError, OSError, subprocess.SubprocessError) as e:
                why = f"its input is typed, and the typist cannot watch the kernel take it: {e}"
        if why:
            if why != "off":
                self._unrecorded.append(why)
            self._machines[shlex.join(argv)] = argv
            return self.run(argv, send=send, stop=stop, timeout=timeout, fatal=fatal)
        if self._recorder is None:
            self._recorder = _Recorder(self._rr_dir())
        recorded = self._recorder.start(argv, self.disk(), typist)
        self._machines[shlex.join(recorded)] = argv
        out = self._run(recorded, send=send, stop=stop, timeout=timeout, fatal=fatal,
                        typist=typist)
        self._recorder.save_console(out.raw)
        return out

    def _rr_dir(self):
        """Where this test's recordings go (Runner.rr_path)."""
        return self._runner.rr_path(self.test)

    def disk(self):
        """The path of this test's disk: a copy of the built image made at
        the test's first boot, so no test sees another's writes, while the
        boots of one test (a crash and the reboot after it) share it."""
        if self._disk is None:
            os.makedirs(self._runner.log_dir, exist_ok=True)
            self._disk = os.path.join(self._runner.log_dir,
                                      f"{self.test.lab}-{self.test.name}.img".replace(os.sep, "_"))
        return self._disk

    def _with_disk(self, argv):
        """argv with its -drive file= replaced by this test's disk."""
        out = []
        for arg in argv:
            m = re.match(r"(^|.*,)(file=)([^,]*)(.*)", arg)
            if m:
                if not self._disk_copied:
                    os.makedirs(os.path.dirname(self.disk()), exist_ok=True)
                    shutil.copyfile(os.path.join(ROOT, m.group(3)), self.disk())
                    self._disk_copied = True
                arg = m.group(1) + m.group(2) + self.disk() + m.group(4)
            out.append(arg)
        return out

    def gdb(self, commands, bootargs="", timeout=None, extra_args=()):
        """Boot QEMU halted for GDB on a free port, run GDB in batch mode
        with commands (a list of GDB command lines) until it exits or the
        time limit, then stop QEMU. Returns (gdb_output, qemu_output), both
        Output."""
        r = self._runner
        limit = self._limit(timeout)
        gdb_argv = [r.gdb_program(), "-batch", "-nx", "-x", None]
        gdb_argv += [arg for c in commands for arg in ("-ex", c)]
        start = time.monotonic()
        # A port found free may be taken before QEMU binds it (by another
        # grader): QEMU then exits at once, and another port is tried.
        for attempt in range(3):
            port = _free_port()
            qemu_argv = (self._with_disk(r.qemu_command()) +
                         (["-append", bootargs] if bootargs else []) + list(extra_args) +
                         ["-S", "-gdb", f"tcp:127.0.0.1:{port}"])
            qemu = _Process(qemu_argv, cwd=ROOT, echo=r.echo)
            until = min(start + limit, time.monotonic() + 5 * max(r.scale, 1))
            up = _wait_for_port(port, qemu, until)
            if up or not qemu.exited() or attempt == 2:
                break
            qemu.stop()
        gdb, how, gdb_seconds = None, "exit", 0.0
        gdbinit = os.path.join(r.log_dir, f"{self.test.lab}-{self.test.name}.gdbinit")
        try:
            if up:
                gdb_argv[4] = _write_gdbinit(gdbinit, port)
                gdb = _Process(gdb_argv, cwd=ROOT, echo=r.echo)
                how, _ = gdb.interact([], None, start + limit)
                gdb_seconds = time.monotonic() - gdb.started
            else:
                self.failures.append(f"QEMU did not open the GDB port {port}")
        finally:
            gdb_status = gdb.stop() if gdb else None
            qemu_seconds = time.monotonic() - qemu.started
            qemu_exited = qemu.exited()
            qemu_status = qemu.stop()
            if os.path.exists(gdbinit):
                os.remove(gdbinit)
        gdb_out = self._record(gdb, how, gdb_status, gdb_seconds, limit, None) if gdb else Output("")
        qemu_out = Output(qemu.output())
        qemu_out.returncode, qemu_out.seconds = qemu_status, qemu_seconds
        ending = f"exited with status {qemu_status}" if qemu_exited else "killed when GDB was done"
        self._machines[shlex.join(qemu.argv)] = qemu.argv
        self.runs.append((shlex.join(qemu.argv), f"QEMU for GDB: {ending}, {qemu_seconds:.2f}s",
                          str(qemu_out)))
        return gdb_out, qemu_out


def _free_port():
    """A TCP port of 127.0.0.1 that nothing uses just now (the kernel picks
    it when we bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_gdbinit(path, port):
    """Write .gdbinit.tmpl, filled in as `make .gdbinit` fills it but for
    port, to path; return path."""
    with open(os.path.join(ROOT, ".gdbinit.tmpl"), encoding="utf-8") as f:
        text = f.read().replace("@GDBPORT@", str(port)).replace("@BUILD@", "build")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _wait_for_port(port, proc, deadline):
    """Wait until something accepts TCP connections on 127.0.0.1:port,
    probing with a connection that is closed at once. False if proc exits
    or the monotonic deadline passes first."""
    while time.monotonic() < deadline and not proc.exited():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.25).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- runner

def _make(*targets, merge=False):
    """Run `make -s TARGETS` in the repository; return (status, stdout,
    stderr). With merge, stderr is interleaved into stdout and returned "".
    """
    try:
        p = subprocess.run(["make", "-s", "--no-print-directory", *targets], cwd=ROOT,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                           text=True, errors="replace")
    except OSError as e:
        return 127, "", f"make: {e.strerror}"
    return p.returncode, p.stdout, p.stderr or ""


def _make_print(target):
    """The last line `make -s TARGET` prints; GradeError if make fails or
    prints nothing."""
    status, out, err = _make(target)
    lines = [line for line in out.splitlines() if line.strip()]
    if status != 0 or not lines:
        tail = "\n".join((err or out).strip().splitlines()[-5:])
        raise GradeError(f"`make -s {target}` failed" + (f":\n{tail}" if tail else ""))
    return lines[-1].strip()


class Runner:
    """Runs selected tests and reports them. Holds the options and what is
    done at most once per grader run: the build, and the QEMU and GDB
    command lines."""

    def __init__(self, verbose=False, build=True, scale=1.0, log_dir=None, color=False,
                 record=True):
        """Options: verbose (echo output), build (run make -s before the
        first QEMU), scale (time-limit factor), log_dir, color (ANSI),
        record (record t.qemu's machines for `make replay`)."""
        self.verbose, self.build, self.scale, self.color = verbose, build, scale, color
        self.record = record
        self.log_dir = log_dir or os.path.join(ROOT, "build", "grade")
        self.setup_seconds = 0.0      # time spent building etc., not charged to tests
        self._qemu = self._gdb = None
        self._echo_nl = True          # the last echoed output ended a line

    # -- once per run

    def echo(self, text):
        """Show machine output live if verbose (called from reader threads)."""
        if self.verbose:
            self._echo_nl = text.endswith("\n")
            sys.stdout.write(text)
            sys.stdout.flush()

    def _timed(self, fn):
        """Call fn() and add its duration to setup_seconds."""
        start = time.monotonic()
        try:
            return fn()
        finally:
            self.setup_seconds += time.monotonic() - start

    def qemu_command(self):
        """The QEMU argv (`make -s print-qemu`). The first call builds
        (unless --no-build); GradeError if that fails."""
        if self._qemu is None:
            if self.build:
                status, out, err = self._timed(lambda: _make(merge=True))
                if status != 0:
                    tail = "\n".join((out + err).rstrip().splitlines()[-30:])
                    raise GradeError(f"the build failed (make -s):\n{tail}")
            self._qemu = shlex.split(self._timed(lambda: _make_print("print-qemu")))
        return list(self._qemu)

    def gdb_program(self):
        """The GDB to run (`make -s print-gdb`), asked once."""
        if self._gdb is None:
            self._gdb = self._timed(lambda: _make_print("print-gdb"))
        return self._gdb

    # -- running tests

    def _paint(self, word, colour):
        """word in an ANSI colour if colour output is on."""
        return f"\033[{colour}m{word}\033[0m" if self.color else word

    def run_tests(self, tests):
        """Run tests in order, printing a line for each; return a list of
        result dicts (the --json format)."""
        width = max(len(t.fullname) for t in tests)
        pwidth = max(len(f"{t.points}/{t.points}") for t in tests)
        results, status_of = [], {}
        for t in tests:
            parent = t.parent
            if parent in status_of and status_of[parent] != "pass":
                why = "failed" if status_of[parent] == "fail" else "was skipped"
                msg = f"parent {parent.fullname} {why}"
                print(f"  {t.fullname:<{width}}  {self._paint('SKIP', 33)}  ({msg})", flush=True)
                result = self._result(t, "skip", 0.0, None, [msg])
            else:
                result = self._run_one(t, width, pwidth)
            status_of[t] = result["status"]
            results.append(result)
        return results

    def _run_one(self, t, width, pwidth):
        """Run test t, print its line (and on failure its messages and log
        path), save or remove its log; return its result dict."""
        global _midline
        if self.verbose:
            print(f"--- {t.fullname}", flush=True)
        else:
            print(f"  {t.fullname:<{width}}  ", end="", flush=True)
            _midline = True
        ctx = TestContext(t, self)
        shutil.rmtree(self.rr_path(t), ignore_errors=True)  # an earlier run's
        start, setup = time.monotonic(), self.setup_seconds
        try:
            t.fn(ctx)
        except _StopTest:
            pass
        except _SkipTest as e:
            if self.verbose:
                print("" if self._echo_nl else "\n", end="")
                print(f"  {t.fullname:<{width}}  ", end="")
            print(f"{self._paint('SKIP', 33)}  ({e})", flush=True)
            _midline = False
            return self._result(t, "skip", time.monotonic() - start, None, [str(e)])
        except (Exception, SystemExit) as e:
            ctx.failures.append(_describe_exception(e, t))
        seconds = time.monotonic() - start - (self.setup_seconds - setup)
        ok = not ctx.failures
        if self.verbose:
            print("" if self._echo_nl else "\n", end="")
            print(f"  {t.fullname:<{width}}  ", end="")
        points = f"{t.points if ok else 0}/{t.points}"
        word = self._paint("PASS", 32) if ok else self._paint("FAIL", 31)
        print(f"{word}  {points:>{pwidth}}  ({seconds:.1f}s)", flush=True)
        _midline = False
        for figure in ctx.figures:
            print("    " + figure)
        log = self._log_path(t)
        if ok and ctx._disk_copied:
            os.remove(ctx.disk())  # a failed test's disk stays, for a look
        if ok:
            shutil.rmtree(self.rr_path(t), ignore_errors=True)
            if os.path.exists(log):
                os.remove(log)
            return self._result(t, "pass", seconds, None, [])
        if ctx._recorder is not None:
            ctx._recorder.keep()
        messages = ctx.failures + ctx.notes
        said = _explaining_lines(ctx)
        hints = ([t.hint] if t.hint else []) + ctx.hints
        self._write_log(log, t, ctx, messages, seconds)
        for m in messages:
            print("    " + m.replace("\n", "\n    "))
        if said:
            print("    the machine said:")
            for line in said:
                print("      " + line)
        for h in hints:
            print("    " + self._paint("hint:", 36) + " " + h.replace("\n", "\n          "))
        for command in _rerun_commands(t, ctx):
            print(f"    run it alone: {command}")
        replay = _replay_line(t, ctx)
        if replay:
            print(f"    {replay}")
        print(f"    output saved to {_pretty_path(log)}", flush=True)
        return self._result(t, "fail", seconds, log, messages + [f"hint: {h}" for h in hints],
                            said)

    def rr_path(self, t):
        """Where test t's recordings go: LOG_DIR/<lab>-<name>.rr."""
        return os.path.join(self.log_dir, f"{t.lab}-{t.name}.rr".replace(os.sep, "_"))

    def _log_path(self, t):
        """Where test t's log goes: LOG_DIR/<lab>-<name>.log."""
        return os.path.join(self.log_dir, f"{t.lab}-{t.name}.log".replace(os.sep, "_"))

    def _write_log(self, path, t, ctx, messages, seconds):
        """Save a failed test's messages and every run's output to path."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"# {t.fullname}: FAIL 0/{t.points} ({seconds:.1f}s)\n")
            for m in messages:
                f.write(f"#   {m}\n")
            if not ctx.runs:
                f.write("\n(no machine was run)\n")
            for command, ending, output in ctx.runs:
                f.write(f"\n===== $ {command}\n===== ({ending})\n")
                f.write(output if output.endswith("\n") or not output else output + "\n")

    @staticmethod
    def _result(t, status, seconds, log, messages, said=()):
        """The --json record of one test."""
        return {"lab": t.lab, "name": t.name, "status": status,
                "points": t.points if status == "pass" else 0, "max_points": t.points,
                "seconds": round(seconds, 3), "output_file": log, "messages": messages,
                "machine_said": list(said)}


def _explaining_lines(ctx):
    """The lines of a failed test's runs that explain it (EXPLAIN: panics,
    backtraces, reports of destroyed environments, asserts, FAIL lines),
    without those already shown as unexpected, at most EXPLAIN_MAX."""
    shown = {m[len("unexpected line: "):] for m in ctx.failures
             if m.startswith("unexpected line: ")}
    lines = []
    for output in ctx.machine_outputs():
        for m in EXPLAIN.finditer(output):
            start = output.rfind("\n", 0, m.start()) + 1
            end = output.find("\n", m.start())
            line = output[start:end if end >= 0 else len(output)]
            if line not in shown and line not in lines:
                lines.append(line)
    if len(lines) > EXPLAIN_MAX:
        rest = len(lines) - EXPLAIN_MAX + 1
        lines = lines[:EXPLAIN_MAX - 1] + [f"... and {rest} more lines in the log"]
    return lines


def _rerun_commands(t, ctx):
    """Commands that repeat failed test t alone: the grader on it and, if it
    booted the machine, `make qemu` with the same boot arguments (of the
    last boot) and instruction counting."""
    commands = [f"./grade-lab {t.fullname}"]
    boots = [(ctx._machines[command], ending) for command, ending, _ in ctx.runs
             if command in ctx._machines]
    if boots:
        argv, ending = boots[-1]
        words = []
        if "-append" in argv[:-1]:
            words.append(f'ARGS="{argv[argv.index("-append") + 1]}"')
        if "-icount" in argv:
            words.append("ICOUNT=1")
        smp = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-smp"]
        if smp and smp[-1] != "1":
            words.append(f"CPUS={smp[-1]}")
        make = "make qemu-gdb" if ending.startswith("QEMU for GDB") else "make qemu"
        commands.append(" ".join([make] + words))
    return commands


def _replay_line(t, ctx):
    """The line under failed test t about replaying it: the command that
    replays its last recorded boot, or why it cannot be replayed; None if
    it booted no QEMU."""
    booted = [argv for argv in ctx._machines.values() if _is_qemu(argv)]
    if not booted:
        return None
    if ctx._recorder is None:
        if not ctx._runner.record:
            return "no replay: recording was off (--no-record)"
        if ctx._unrecorded:
            return f"no replay: {ctx._unrecorded[-1]}"
        return "no replay: its machine ran under GDB (t.gdb), which is not recorded"
    n = ctx._recorder.boots
    which = f" (boot {n} of {n}; RUN=1 for the first)" if n > 1 else ""
    return f"replay it: make replay T={t.fullname}{which}"


def _describe_exception(e, t):
    """One line for an exception a test raised: where (the innermost frame
    in the test's file, else the innermost) and the exception itself."""
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if f.filename == t.fn.__code__.co_filename]
    where = (mine or frames)[-1] if frames else None
    what = traceback.format_exception_only(type(e), e)[-1].strip()
    if where is None:
        return f"exception: {what}"
    return f"exception at {os.path.basename(where.filename)}:{where.lineno}: {what}"


def _end_line():
    """Finish a half-printed test line, so that a message printed next
    starts on a line of its own; flush stdout."""
    global _midline
    if _midline:
        print()
        _midline = False
    sys.stdout.flush()


def _pretty_path(path):
    """path relative to the current directory if it lies under it, else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _summary(results):
    """The totals of a list of result dicts."""
    count = {s: sum(r["status"] == s for r in results) for s in ("pass", "fail", "skip")}
    return {"passed": count["pass"], "failed": count["fail"], "skipped": count["skip"],
            "points": sum(r["points"] for r in results),
            "max_points": sum(r["max_points"] for r in results)}


# ---------------------------------------------------------------- main

def _parse_args(argv):
    """Command-line options of grade-lab."""
    p = argparse.ArgumentParser(prog="grade-lab", description="Run rvexo's lab tests.")
    p.add_argument("words", nargs="*", metavar="LAB|TEST",
                   help="a lab (or 'all'), then test filters; or only filters")
    p.add_argument("--list", action="store_true", help="list the selected tests, run nothing")
    p.add_argument("-v", "--verbose", action="store_true", help="show machine output live")
    p.add_argument("--json", metavar="FILE", help="write the results to FILE as JSON")
    p.add_argument("--gradescope", metavar="FILE",
                   help="write the results to FILE in Gradescope's results.json format")
    p.add_argument("--no-earlier", action="store_true",
                   help="grading one lab, do not also run the earlier labs' tests")
    p.add_argument("--no-build", action="store_true", help="do not run `make -s` first")
    p.add_argument("--no-record", action="store_true",
                   help="do not record the machines for `make replay` (also: RECORD=0)")
    p.add_argument("--labs-dir", metavar="DIR", help="where the labs are (default: labs/)")
    p.add_argument("--log-dir", metavar="DIR",
                   help="where logs of failed tests go (default: build/grade beside the labs dir)")
    return p.parse_intermixed_args(argv)


def _time_scale():
    """GRADE_TIME_SCALE as a positive float (default 1)."""
    text = os.environ.get("GRADE_TIME_SCALE", "").strip() or "1"
    try:
        scale = float(text)
    except ValueError:
        scale = -1
    if not scale > 0 or scale == float("inf"):
        raise GradeError(f"GRADE_TIME_SCALE must be a positive number, not {text!r}")
    return scale


def _select(labs_dir, words, earlier=True):
    """Load the labs that words name and return (tests, guard): words is
    [LAB|all, filter...] or [filter...]; tests are the selected tests. When
    words name one whole lab and earlier is true, guard holds the tests of
    the labs before it in LAB_ORDER (selftest aside): a lab must not break
    them. GradeError if a lab or filter matches nothing."""
    labs = discover_labs(labs_dir)
    if not labs:
        raise GradeError(f"no labs (directories with a tests.py) in {labs_dir}")
    if words and (words[0] in labs or words[0] == "all"):
        lab, filters = words[0], words[1:]
    else:
        lab, filters = "all", words
    chosen = labs if lab == "all" else [lab]
    every = [t for name in chosen for t in load_lab(labs_dir, name)]
    if not every:
        raise GradeError(f"lab {lab} has no tests")
    try:
        tests = select(every, filters)
    except GradeError as e:
        if lab == "all" and filters and filters[0] == words[0] and "/" not in words[0]:
            raise GradeError(f"{e}; the labs are: {' '.join(labs)}")
        raise
    guard = []
    if earlier and lab in LAB_ORDER and not filters:
        before = LAB_ORDER[:LAB_ORDER.index(lab)]
        guard = [t for name in labs if name in before and name != "selftest"
                 for t in load_lab(labs_dir, name)]
    return tests, guard


def _on_signal(signum, frame):
    """SIGTERM/SIGHUP: unwind like Ctrl-C, so machines get killed."""
    raise KeyboardInterrupt()


def main(argv=None):
    """grade-lab's entry point: parse argv, run or list the tests, print
    the summary; returns the exit status (0 all passed, 1 a test failed,
    2 could not run, 130 interrupted)."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    started = time.monotonic()
    try:
        labs_dir = os.path.abspath(args.labs_dir or os.path.join(ROOT, "labs"))
        sys.path[1:1] = [labs_dir] if labs_dir not in sys.path else []
        tests, guard = _select(labs_dir, args.words, earlier=not args.no_earlier)
        if args.list:
            for t in tests + guard:
                print(f"{t.fullname} ({t.points})" + (" [earlier lab]" if t in guard else ""))
            return 0
        log_dir = os.path.abspath(args.log_dir or
                                  os.path.join(os.path.dirname(labs_dir), "build", "grade"))
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        runner = Runner(verbose=args.verbose, build=not args.no_build, scale=_time_scale(),
                        log_dir=log_dir, color=color,
                        record=not args.no_record and os.environ.get("RECORD") != "0")
        results = runner.run_tests(tests)
        if guard:
            print(f"\nThe earlier labs' tests, which lab {tests[0].lab} must not break "
                  f"(--no-earlier: skip them):", flush=True)
            for r in runner.run_tests(guard):
                results.append({**r, "earlier": True})
    except GradeError as e:
        _stop_all()
        _end_line()
        print(f"grade-lab: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _stop_all()
        _end_line()
        print("grade-lab: interrupted", file=sys.stderr)
        return 130
    finally:
        _stop_all()
    own = [r for r in results if not r.get("earlier")]
    totals = _summary(own)
    broken = [r for r in results if r.get("earlier") and r["status"] == "fail"]
    status = 1 if totals["failed"] or broken else 0
    everything = _summary(results)
    for path, write in ((args.json, _write_json), (args.gradescope, _write_gradescope)):
        if path:
            try:
                write(path, results, totals, broken, time.monotonic() - started)
            except OSError as e:
                print(f"grade-lab: cannot write {path}: {e.strerror}", file=sys.stderr)
                status = 2
    print(f"\nScore: {totals['points']}/{totals['max_points']} points")
    if broken:
        print(f"but {len(broken)} test{'s' if len(broken) > 1 else ''} of earlier labs "
              f"fail: the lab is not passed until they pass again")
    skipped = f", {everything['skipped']} skipped" if everything["skipped"] else ""
    print(f"{everything['passed']} passed, {everything['failed']} failed{skipped}")
    return status


def _write_json(path, results, totals, broken, seconds):
    """--json: every result record and the totals of the selected tests."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"results": results, "totals": totals}, f, indent=2)
        f.write("\n")


def _write_gradescope(path, results, totals, broken, seconds):
    """--gradescope: Gradescope's results.json. Each test with its score,
    max_score and, when it failed, what grade-lab showed under it (the
    reasons, the lines that explain them, hints); earlier labs' tests are
    listed with max_score 0, and breaking one is said at the top."""
    tests = []
    for r in results:
        lines = list(r["messages"])
        if r.get("machine_said"):
            lines += ["the machine said:"] + ["  " + x for x in r["machine_said"]]
        earlier = r.get("earlier", False)
        tests.append({"name": ("earlier lab " if earlier else "") + f"{r['lab']}/{r['name']}",
                      "score": 0 if earlier else r["points"],
                      "max_score": 0 if earlier else r["max_points"],
                      "status": "passed" if r["status"] == "pass" else "failed",
                      "output": "\n".join(lines), "visibility": "visible"})
    output = ""
    if broken:
        output = (f"{len(broken)} test(s) of earlier labs fail: "
                  + ", ".join(f"{r['lab']}/{r['name']}" for r in broken))
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"score": totals["points"], "execution_time": round(seconds),
                   "output": output, "output_format": "text", "tests": tests}, f, indent=2)
        f.write("\n")
