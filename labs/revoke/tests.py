# Lab revoke: answering the kernel's revocation in the library. ExOS pages
# a region to and from a file, lets the program choose the replacement
# policy, gives pages back when the kernel asks, and repairs its state when
# the kernel takes them by force.

import re

from gradelib import *


@test(points=30, timeout=20)
def revocation_policy(t):
    """The clock on pages of its own (accessed bits cleared, dirty bits kept,
    a hand kept between sweeps); a paged region over a file, clock and MRU
    policies, revocation answered by the policy (n pages, a named page), a
    child ignoring revocation loses pages (not its parent), a child survives
    repossession and is stopped when it touches a lost page."""
    out = t.qemu(bootargs="init=t_paging", extra_args=["-icount", "shift=0"])  # deadlines in instructions
    t.expect(out, r"^t_paging: all \d+ checks passed$",
             r"^rvexo: env [0-9a-f]+ \(t_paging\) did not answer a revocation; took 40$",
             r"^t_paging: the kernel took \d+ pages whose contents are lost$",
             r"^child: survived repossession with \d+ pages lost, 0 region pages resident$",
             r"^t_paging: page 0x[0-9a-f]+ was taken by the kernel \(revocation\); "
             r"its contents are lost$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled")


@test(points=10, timeout=15)
def own_policy_faster(t):
    """The demo: a cyclic scan bigger than its allowance takes fewer
    instructions (under -icount) with the program's own MRU policy."""
    out = t.qemu(bootargs="init=pagedemo", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^pagedemo: 4 scans of 128 pages in 32: default clock: 512 pages read, \d+ ",
             r"^pagedemo: 4 scans of 128 pages in 32: own MRU policy: 388 pages read, \d+ ",
             r"^pagedemo: the program's own policy took \d+% of the default's instructions$")
    m = re.search(r"took (\d+)% of the default", out)
    if m and int(m.group(1)) >= 100:
        t.fail(f"the own policy was not faster ({m.group(1)}%)")


@test(points=10, timeout=20)
def file_cache_given_back_on_revocation(t):
    """Memory given back: after a 4 MiB file workload the file server,
    asked through the kernel's visible revocation, gives back at once the
    pages its block cache took, and a program then allocates as many pages
    as before the workload; pages the kernel takes by force from the cache
    are forgotten, not lost, and the file system still works. (Under
    -icount: a busy host must not make the server miss its deadline.)"""
    out = t.qemu(bootargs="init=t_memback", extra_args=["-icount", "shift=0"])
    t.expect(out, r"^t_memback: all \d+ checks passed$",
             r"^rvexo: no environments left; powering off$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"contents are lost")
