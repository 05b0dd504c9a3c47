# Lab ipc: communication in the library. The kernel moves the processor and
# six registers between environments (PCT); ExOS builds RPC and pipes on it.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))


@test(points=20, timeout=15,
      hint="rpc_call (LAB ipc): a call the kernel refuses because the server is busy "
           "(-E_REFUSED) waits its turn: count it in exos_rpc_retries, give the server the "
           "processor (sys_yield(server), or sys_yield(0) if that fails) and call again.")
def rpc(t):
    """RPC over PCT: results in registers, the caller's id, a payload in a
    shared page, three clients at once (a busy server's callers wait their
    turn), a server that dies mid-call. (Under -icount: the same calls find
    the server busy in every run.)"""
    out = t.qemu(bootargs="init=t_rpc", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_rpc: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    t.hint_if(out, r"^a call: FAIL: got -22,",
              "The first call gave up with -E_NOENTRY: the server, just forked, had not yet "
              "registered its entry, and never got to run. Calling again at once spins: a "
              "retry must give the server the processor first.")
    t.hint_if(out, r"^three clients at once.*: FAIL",
              "A client got the server's refusal (-E_REFUSED) back as the call's result: a "
              "refused call must be made again once the server is free.")
    if re.search(r"^three clients at once.*: ok$", out, re.M):
        t.hint_if(out, r"^\.\.\. some found the server busy.*: FAIL",
                  "Every answer was right, but no retry was counted: add one to "
                  "exos_rpc_retries for each refused call.")


@test(points=20, timeout=15,
      hint="pipe_read (LAB ipc): while the buffer is empty, return 0 only if no live "
           "process holds a write end (p->writers == 0, or else held_alive(p, ENDS(1)) says "
           "none), else yield to the last writer and look again; copy out at most "
           "nwritten - nread bytes from position (nread + i) % PIPE_BUF, then advance nread.")
def pipes(t):
    """Pipes and descriptors: more than the buffer, end of file, a writer
    killed before it closed, a broken pipe, dup/dup2, descriptors across
    fork, spawn and exec, no leaks."""
    out = t.qemu(bootargs="init=t_pipe")
    t.expect(out, r"^t_pipe: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    t.hint_if(out, r"^t_pipe: a reader still waits a second after its only writer was killed",
              "A writer killed before it closed its end still counts in p->writers, which only "
              "ever errs high. When it is not 0, ask held_alive(p, ENDS(1)) whether a live "
              "process holds a write end: it takes a dead holder's ends out.")
    t.hint_if(out, r"unhandled (load|store) page fault at pc .*, address 0x3f4",
              "The reader touched an address past the pipe's data page (EXOS_PIPES): the ring "
              "buffer's position is (nread + i) % PIPE_BUF.")
    t.hint_if(out, r"^read it back: FAIL: got (?!0,)\d+, want 5",
              "read returned more bytes than were written: copy at most nwritten - nread.")
    t.hint_if(out, r"^(a writer's bytes arrive: FAIL: got 0,|read it back: FAIL: got 0,)",
              "read returned 0 (the end of the file) while a writer was still there: an "
              "empty buffer is not the end; wait for the writer.")
    t.hint_if(out, r"^no writer left: end of file: FAIL: got [1-9]",
              "After every byte written had been read, read gave bytes again: advance nread "
              "by the bytes copied out.")


@test(points=10, timeout=30,
      hint="pipe_read (LAB ipc): look for writers first (p->writers, then held_alive), then "
           "at the buffer once more, and return 0 only if it is still empty (question 4).")
def pipe_end_of_file_only_when_every_writer_has_closed(t):
    """A pipe gives end of file only when every writer has closed it: the
    last writer writes and exits just while its reader looks for writers,
    a child's bytes reach its parent however the two are scheduled, and a
    prime sieve over a chain of 60 forked processes loses no prime."""
    out = t.qemu(bootargs="init=t_pipestress")
    t.expect(out, r"^t_pipestress: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    t.hint_if(out, r"^t_pipestress: the reader found the pipe empty, then no writer",
              "The reader looked at the buffer, then for writers, and trusted the first look: "
              "the last writer wrote and closed in between. After finding no writer, look at "
              "the buffer again.")
    t.hint_if(out, r"^t_pipestress: the reader took an empty pipe for the end of the file",
              "An empty buffer is the end only when no live process holds a write end.")


@test(points=5, timeout=5)
def answers(t):
    """labs/ipc/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
