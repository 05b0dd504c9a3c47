# Lab ipc: communication in the library. The kernel moves the processor and
# six registers between environments (PCT); ExOS builds RPC and pipes on it.

import os
import re

from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))

RPC_ROUNDTRIP_TARGET = 305    # instructions; the reference: 291
PIPE_ROUNDTRIP_TARGET = 800  # instructions; the reference: 772


def first_failure(out):
    """The first line of out that tells of a failure: a check's FAIL line or
    a test program's own report (t_NAME: ...), but not its summary; "" if
    none. Later failures are often the first one's consequences."""
    for line in out.splitlines():
        if re.search(r": FAIL: |^t_\w+: (?!all \d+ checks|\d+ of \d+ checks)", line):
            return line
    return ""


def t_rpc(t, part):
    """Boot t_rpc for one part (calls, busy, dead) under -icount, where the
    same calls find the server busy in every run; fail on any FAIL line."""
    out = t.qemu(bootargs=f"init=t_rpc {part}", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_rpc: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    t.hint_if(out, r"t_rpc: unhandled illegal instruction at pc .*",
              "An illegal instruction: a stub of the handout (unimp in rpc_entry.S) still "
              "stands where your code goes.")
    return out


@test(points=15, timeout=20,
      hint="rpc_call, exos_pct_call, rpc_buffer and the server (exos_rpc_entry, "
           "exos_rpc_dispatch, rpc_serve, connect_client, client_page): see the exercises "
           "in labs/ipc/README.md, in order.")
def rpc_calls(t):
    """RPC over PCT: results in the six registers, the caller's id, a payload
    in the page each client shares with the server, a server still starting
    up, 70 clients that come and go, calling what serves nothing."""
    out = t_rpc(t, "calls")
    first = first_failure(out)
    t.hint_if(first, r"^a call: FAIL: got -22,",
              "The first call gave up with -E_NOENTRY: the server, just forked, had not yet "
              "registered its entry, and never got to run. A retry must give it the "
              "processor first (sys_yield(server)).")
    t.hint_if(first, r"^a call: FAIL: got (?!-22,)",
              "The first call, made while the server was still starting (so not taken at "
              "first, and made again), got a wrong answer: exos_pct_call must leave *m as it "
              "was when the kernel did not take the call (-E_REFUSED, -E_AGAIN, -E_NOENTRY: "
              "a1..a5 may be garbage then), so the call is made again with the message.")
    t.hint_if(out, r"^\s+#\d+ 0x[0-9a-f]+ exos_rpc_dispatch\+",
              "The server faulted in its handler: the req->buf it was given is not a page "
              "this caller shares. client_page must give the page of the caller's own slot "
              "(a page whose client is gone is unmapped), or NULL.")
    t.hint_if(first, r"^the reply's other words: FAIL",
              "The call's result came back but not the reply's other words: exos_pct_call "
              "stores all six reply registers a0..a5 into m->w after the ecall (unless the "
              "kernel did not take the call).")
    t.hint_if(first, r"^the server sees the caller's id: FAIL",
              "The handler's req->caller is the kernel's a6 at the entry, the caller's id.")
    t.hint_if(first, r"^a page shared with the server: FAIL",
              "rpc_buffer: the server can map the client's page only once the client has "
              "granted it (sys_page_grant with GRANT_R | GRANT_W) before the RPC_CONNECT call.")
    t.hint_if(first, r"^(\.\.\. and the first client's in its own|"
                     r"a second client's payload travels in its own page): FAIL",
              "The server used another client's page: client_page must find the slot of the "
              "caller (the kernel's a6, which cannot be forged), not the last one connected.")
    t.hint_if(first, r"^70 clients one after another.*: FAIL",
              "After 64 clients, no page could be connected: connect_client must reuse the "
              "slot of a client that is gone (its id no longer in the environment table).")
    t.hint_if(first, r"^calling oneself: E_BADENV: FAIL",
              "A call the kernel fails with -E_BADENV (no such environment, or it died) was "
              "made again and again: only -E_REFUSED and -E_AGAIN are waited for.")


@test(points=15, timeout=25,
      hint="rpc_call and wait_turn (LAB ipc): a call the kernel refuses because the server "
           "is busy (-E_REFUSED) waits its turn: count a retry in exos_rpc_retries, give the "
           "server the processor (sys_yield(server), or sys_yield(0) if that fails) and call "
           "again with the message (exos_pct_call leaves *m alone on a refusal).")
def rpc_busy_server(t):
    """Three clients at once, 600 slow calls: a busy server refuses the
    others (the kernel, with PCT_ONCE), who wait their turn and get every
    answer right; the retries are counted."""
    out = t_rpc(t, "busy")
    first = first_failure(out)
    t.hint_if(first, r"^three clients at once.*: FAIL",
              "A client got a wrong answer: a refusal (-E_REFUSED) is not the call's result, "
              "and exos_pct_call must not store its garbage registers into *m: the call "
              "is made again with the message.")
    t.hint_if(first, r"^t_rpc: a client still waits",
              "A client never got its answer: the server must take one call at a time "
              "(sys_pct_accept with PCT_ONCE before the entry is registered, and again in "
              "idle), or a second call starts afresh over the first one's work.")
    t.hint_if(first, r"^\.\.\. some found the server busy.*: FAIL",
              "Every answer was right, but no retry was counted: add one to "
              "exos_rpc_retries for each refused call.")


@test(points=10, timeout=20,
      hint="wait_turn (LAB ipc): only a refusal (-E_REFUSED) or a server not ready (-E_AGAIN) "
           "is waited for; -E_BADENV (the server is gone) is the call's result at once.")
def rpc_dead_server(t):
    """A server that dies during a call: the call fails with -E_BADENV, and
    so do later ones, and one to a server killed between calls; none hangs."""
    out = t_rpc(t, "dead")
    t.hint_if(out, r"^t_rpc: a caller still waits long after its server died",
              "The caller waited for a server that is gone: -E_BADENV is no refusal; return it.")


@test(points=20, timeout=25,
      hint="pipe_new, pipe_read, write_locked, pipe_close and held_alive (LAB ipc): see the "
           "exercises in labs/ipc/README.md.")
def pipes(t):
    """Pipes and descriptors: more than the buffer (a full buffer lets the
    reader run), writes of at most a page landing whole, end of file, two
    writers, a pipe outliving its maker's ends, a writer killed before it
    closed, a broken pipe, dup/dup2, descriptors across fork, spawn and
    exec, no leaks. (Under -icount: the 64 KiB's time is exact.)"""
    out = t.qemu(bootargs="init=t_pipe", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_pipe: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
    first = first_failure(out)
    t.hint_if(first, r"^make a pipe: FAIL",
              "pipe() failed: pipe_new maps the header and the data page at the first free "
              "slot (vm_pte(PIPE_VA(i)) == 0) and holds one end of each kind.")
    t.hint_if(first, r"^t_pipe: read gave the end of the file while its writer was alive",
              "read returned 0 (the end of the file) while a writer was alive: an empty buffer "
              "is the end only when no live process holds a write end (p->writers, then "
              "held_alive(p, ENDS(1))); else give the writer the processor and look again.")
    t.hint_if(first, r"^t_pipe: the child's bytes never reached its parent",
              "The forked child wrote into a pipe its parent never saw: the pipe's pages must "
              "be shared (PTE_SHARE), not copied on write by fork.")
    t.hint_if(first, r"^read it back: FAIL: got (?!0,)\d+, want 5",
              "read returned more bytes than were written: copy at most nwritten - nread.")
    t.hint_if(first, r"^\.\.\. then the end of the file: FAIL: got [1-9]",
              "After every byte written had been read, read gave bytes again: advance nread "
              "by the bytes copied out.")
    t.hint_if(first, r"^\.\.\. within 10 ms.*: FAIL",
              "64 KiB took many time slices: a writer facing a full buffer, or a reader facing "
              "an empty one, spun instead of giving the processor to the other side "
              "(sys_yield(p->reader) or sys_yield(p->writer), or sys_yield(0) if that fails).")
    t.hint_if(first, r"^20 writes of 3000 bytes.*: FAIL",
              "A write of at most PIPE_BUF bytes waits until there is room for all of it and "
              "then counts it at once: it lands whole, never in pieces.")
    t.hint_if(first, r"^two writers, the first gone.*: FAIL",
              "The input ended while a second writer still held its end: the end of the file "
              "comes when no live process holds a write end, not when the last writer is gone.")
    t.hint_if(first, r"^its maker closed both ends.*: FAIL",
              "The pipe's pages went away while others held it: its owner frees them only when "
              "no live process holds an end (held_alive(p, ALL_ENDS)); others just unmap.")
    t.hint_if(out, r"unhandled (load|store) page fault at pc .*, address 0x3f4000[01]",
              "A process touched a pipe's pages after they were freed: the owner frees them "
              "only when no live process holds an end (held_alive(p, ALL_ENDS)).")
    t.hint_if(out, r"unhandled (load|store) page fault at pc .*, address 0x3f4000[2-9a-f]",
              "A process touched an address past the pipe's data page (EXOS_PIPES): the ring "
              "buffer's position is (nread + i) % PIPE_BUF, and (nwritten + i) % PIPE_BUF.")
    t.hint_if(out, r"^t_pipe: a reader still waits a tenth of a second after its only writer",
              "A writer killed before it closed its end still counts in p->writers, which only "
              "ever errs high. When it is not 0, ask held_alive(p, ENDS(1)) whether a live "
              "process holds a write end: it takes a dead holder's ends out.")


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


@test(points=5, timeout=30, parent=rpc_calls,
      hint="the common call is one PCT each way: no system call besides exos_pct_call's ecall "
           "when the server is free, no search longer than the clients in use")
def rpc_roundtrip(t):
    """An empty RPC, call and reply, takes at most 305 instructions under
    -icount (the reference: 291)."""
    t.instructions("rpc-roundtrip", RPC_ROUNDTRIP_TARGET, 291)


@test(points=5, timeout=30, parent=pipes,
      hint="a reader with nothing to read gives the processor to the writer (a directed "
           "yield), not to anyone and not by spinning; the common read and write make no "
           "system call besides that yield")
def pipe_roundtrip(t):
    """One byte to a partner and back over two pipes takes at most 800
    instructions under -icount (the reference: 772)."""
    t.instructions("pipe-roundtrip", PIPE_ROUNDTRIP_TARGET, 772)


@test(points=5, timeout=5)
def answers(t):
    """labs/ipc/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
