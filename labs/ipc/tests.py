# Lab ipc: communication in the library. The kernel moves the processor and
# six registers between environments (PCT); ExOS builds RPC and pipes on it.

from gradelib import *


@test(points=20, timeout=15)
def rpc(t):
    """RPC over PCT: results in registers, the caller's id, a payload in a
    shared page, three clients at once (a busy server's callers wait their
    turn), a server that dies mid-call. (Under -icount: the same calls find
    the server busy in every run.)"""
    out = t.qemu(bootargs="init=t_rpc", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_rpc: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")


@test(points=20, timeout=15)
def pipes(t):
    """Pipes and descriptors: more than the buffer, end of file, a broken
    pipe, dup/dup2, descriptors across fork, spawn and exec, no leaks."""
    out = t.qemu(bootargs="init=t_pipe")
    t.expect(out, r"^t_pipe: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")


@test(points=10, timeout=30)
def pipe_end_of_file_only_when_every_writer_has_closed(t):
    """A pipe gives end of file only when every writer has closed it: the
    last writer writes and exits just while its reader looks for writers,
    a child's bytes reach its parent however the two are scheduled, and a
    prime sieve over a chain of 60 forked processes loses no prime."""
    out = t.qemu(bootargs="init=t_pipestress")
    t.expect(out, r"^t_pipestress: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")
