# Lab boot: the machine comes up under OpenSBI, the kernel reports itself,
# runs its first user program, and explains its own failures.
#
# The lab's exercise is the kernel's backtrace (kernel/printf.c): the three
# backtrace tests come first, and the others, which check the machine and
# the tools as the handout describes them, count once the panic's backtrace
# is right (they are its children).

import os
import re

import gradelib
from gradelib import *

HERE = os.path.dirname(os.path.abspath(__file__))

BANNER = r"^rvexo: exokernel for RISC-V, (1 hart|[2-8] harts) \(booted on hart \d+\), 128 MiB RAM"
FRAME = r"^  #(\d+) (0x[0-9a-f]{16}) (\S+)$"


def call_sites():
    """The addresses of the kernel's call instructions (jal, jalr), read
    from build/kernel/kernel.asm."""
    sites = set()
    with open(os.path.join(gradelib.ROOT, "build", "kernel", "kernel.asm"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]{16}):\s+[0-9a-f]+\s+(\S+)", line)
            if m and m.group(2).startswith("jal"):
                sites.add(int(m.group(1), 16))
    return sites


def check_frames(t, out):
    """Every frame after #0 of out's backtraces names the call instruction
    in its caller, and frames are numbered 0, 1, 2, ... Hints for the
    usual mistakes of a walk."""
    frames = re.findall(FRAME, out, re.M)
    numbers = [int(n) for n, _, _ in frames]
    t.check(numbers == list(range(len(numbers))),
            f"frames are numbered {' '.join(map(str, numbers))}, not 0, 1, 2, ...")
    sites = call_sites()
    returns = [addr for n, addr, _ in frames if n != "0" and int(addr, 16) not in sites]
    if returns:
        t.check(False, f"frame address {returns[0]} is not a call instruction")
        t.hint("print the call, the return address minus 4: the return address may "
               "already be in the next function")
    t.hint_if(out, r"^  #1 0x[0-9a-f]+ panic_at\+",
         "#1 repeats panic_at: the walk started from backtrace()'s own frame, not from fp")
    t.hint_if(out, r"^  #0 .*\n(?!  #)",
         "only #0 was printed: the walk ended at once (ra is at fp - 8, the caller's fp at fp - 16)")


@test(points=10, timeout=10)
def symbol_lookup(t):
    """symtab_lookup names the last symbol at or below an address: at a
    function's first byte and its last, past the last symbol, before the
    first, in tables of one entry and of none, and in the kernel's own."""
    out = t.qemu(bootargs="ktest=symtab init=echo")
    t.expect(out, r"^ktest symtab: 15 lookups, 0 wrong$")
    t.hint_if(out, r"FAIL: \S+ in \d+ entries: \w+\+\S+, expected \w+\+0x0$",
              "an address that is a symbol's own is named after the symbol before: "
              "keep entries whose address is <= pc, not < pc")
    t.hint_if(out, r"FAIL: .* expected (five|one|four)\+",
              "the last entry must be a candidate too: an address past every symbol "
              "belongs to the last one (search over [0, n))")
    t.hint_if(out, r"^ktest symtab: FAIL: .*: none, expected (?!none)",
              "symtab_lookup returns NULL only when there is no entry at or below pc")


@test(points=10, timeout=10)
def panic_backtrace(t):
    """A panic prints file:line and names every function on the way to it,
    each frame at the call instruction, down to _start."""
    out = t.qemu(bootargs="ktest=panic")
    t.expect(out,
             r"^panic at kernel/ktest\.c:\d+: ktest: deliberate panic \(42\)$",
             r"^backtrace:$",
             r"^  #0 0x[0-9a-f]{16} panic_at\+0x[0-9a-f]+$",
             r"^  #1 0x[0-9a-f]{16} ktest_panic\+0x[0-9a-f]+$",
             r"^  #2 0x[0-9a-f]{16} ktest_run\+0x[0-9a-f]+$",
             r"^  #3 0x[0-9a-f]{16} kmain\+0x[0-9a-f]+$",
             r"^  #4 0x[0-9a-f]{16} _start\+0x[0-9a-f]+$")
    t.forbid(out, r"^init:", r" \?$", r"^  #5 ")
    check_frames(t, out)
    t.hint_if(out, r"^  #\d+ 0x[0-9a-f]+$", "print each frame with print_frame(), which names it")
    t.hint_if(out, r"^  #3 .* kmain\+.*\n(?!  #4)",
         "the walk stopped before _start: a frame is printed before its caller's fp is checked")


@test(points=10, timeout=10)
def kernel_trap(t):
    """An illegal instruction in the kernel is reported by name, with symbols."""
    out = t.qemu(bootargs="ktest=illegal")
    t.expect(out,
             r"^panic: unexpected trap in the kernel: illegal instruction \(scause 0x0+2\)$",
             r"^  sepc  0x[0-9a-f]{16} ktest_illegal\+0x[0-9a-f]+$",
             r"^  stval 0x[0-9a-f]{16}$",
             r"^  #0 0x[0-9a-f]{16} ktest_illegal\+0x[0-9a-f]+$",
             r"^  #1 0x[0-9a-f]{16} ktest_run\+0x[0-9a-f]+$",
             r"^  #2 0x[0-9a-f]{16} kmain\+0x[0-9a-f]+$")
    t.forbid(out, r"^init:")
    check_frames(t, out)


@test(points=10, timeout=10)
def corrupt_frames(t):
    """A frame chain that loops, or that leaves the kernel stack, ends the
    backtrace after at most 32 frames, without a fault."""
    loop = t.qemu(bootargs="ktest=loopframe", stop=r"^  #40 ")
    t.expect(loop, r"^panic at kernel/ktest\.c:\d+: ktest: a frame chain that loops$",
             r"^  #1 0x[0-9a-f]{16} ktest_badframe\+0x[0-9a-f]+$",
             r"^  #31 0x[0-9a-f]{16} ktest_run\+0x[0-9a-f]+$")
    t.forbid(loop, r"^  #32 ", r"recursive panic", r"unexpected trap")
    t.hint_if(loop, r"^  #32 ", "bound the walk: a corrupt chain of frame pointers may loop")
    junk = t.qemu(bootargs="ktest=junkframe")
    t.expect(junk, r"^panic at kernel/ktest\.c:\d+: ktest: a frame chain that leaves the stack$",
             r"^  #2 0x[0-9a-f]{16} ktest_run\+0x[0-9a-f]+$")
    t.forbid(junk, r"^  #3 ", r"recursive panic", r"unexpected trap")
    t.hint_if(junk, r"recursive panic|unexpected trap",
         "check that a frame pointer is on the kernel stack (on_stack) before reading through it")


@test(points=5, timeout=10, parent=panic_backtrace)
def banner(t):
    out = t.qemu(stop=r"init: hello")
    t.expect(out, BANNER)
    t.forbid(out, r"panic", r"kernel trap")


@test(points=5, timeout=10, parent=panic_backtrace)
def init_runs(t):
    """init prints through a system call and starts the shell."""
    out = t.qemu(stop=r"\$ ")
    t.expect(out, r"^init: hello from user space, environment [0-9a-f]+$", r"^\$ ")


@test(points=5, timeout=10, parent=panic_backtrace)
def printf_formats(t):
    """%x is unsigned, %p is 0x and 16 digits, and the rest as in C."""
    out = t.qemu(bootargs="ktest=printf", stop=r"init: hello from user space.*\n")
    t.expect(out,
             r"^ktest printf: \[0\] \[-12345\] \[-2147483648\]$",
             r"^ktest printf: \[4294967295\] \[ffffffff\] \[ABCDEF\]$",
             r"^ktest printf: \[-9223372036854775808\] \[18446744073709551615\] \[123456789abcdef\]$",
             r"^ktest printf: \[0x0000000080200000\] \[0x0000000000000000\]$",
             r"^ktest printf: \[str\] \[c\] \[%\] \[   42\] \[42   \] \[0beef\]$",
             r"^ktest printf: \[\(null\)\]$")


HIT = r"(?:Thread \d+ hit )?"  # GDB names the hart that stopped when there are several


@test(points=10, timeout=10, parent=panic_backtrace)
def gdb(t):
    """GDB stops in the kernel with the right caller, then in init's main
    (with several harts too: GDB then names the hart, "Thread N hit")."""
    out, _ = t.gdb(["break pmap_init", "continue", "bt",
                    "hbreak main", "continue", "bt 1", "print argv[0]", "kill"])
    t.expect(out,
             rf"^{HIT}Breakpoint 1, pmap_init \(\) at kernel/pmap\.c:\d+",
             r"^#1 +0x[0-9a-f]+ in kmain \(",
             rf"^{HIT}Breakpoint 2, main \(argc=1, argv=0x[0-9a-f]+\) at user/init\.c:\d+",
             r'^\$1 = 0x[0-9a-f]+ "init"$')


@test(points=10, timeout=10, parent=panic_backtrace)
def gdb_privilege(t):
    """The .gdbinit commands across privilege levels. A breakpoint in
    ExOS's libmain stops in init (the first program), while break-env sh
    libmain stops in sh only; stepi goes
    through an ecall into the trap entry, to-user back; kernel memory is
    read from user mode with kx and kp; to-kernel. Under -icount the
    machine's course is the same each run. (With several harts, every trap
    enters at uservec_smp.)"""
    out, _ = t.gdb(["user init", "hbreak libmain", "continue", "kp $curenv->pub->name", "delete",
                    "user init", "hbreak sys_getenvid", "continue", "stepi", "stepi",
                    "info registers priv", "to-user", "info registers priv", "delete",
                    "kx/2i kmain", "kp $curenv->pub->name", "info registers priv", "to-kernel",
                    "break-env sh libmain", "continue", "kp $curenv->pub->name", "kill"],
                   extra_args=["-icount", "shift=0"])
    t.expect(out,
             r'^\$1 = "init", ',
             rf"^{HIT}Breakpoint 2, 0x[0-9a-f]+ in sys_getenvid \(\) at ulib/usys\.S:\d+",
             r"^uservec(?:_smp)? \(\) at kernel/trapvec\.S:\d+",
             r"^to-user: env 100 \(init\) resumes at 0x[0-9a-f]+\n0x[0-9a-f]+ in sys_getenvid \(\) ",
             r"^ +0xffffffc0[0-9a-f]+ <kmain>:\t",
             r'^\$2 = "init", ',
             r"^to-kernel: env 100 \(init\) trapped, scause 0x[0-9a-f]+$",
             rf"^{HIT}Breakpoint \d+, libmain \(argc=1, argv=0x[0-9a-f]+, .*\) at ulib/libmain\.c:\d+",
             r'^\$3 = "sh", ')
    t.forbid(out, r"Cannot access memory")
    privs = re.findall(r"^priv +0x(\d)", out, re.M)
    t.check(privs == ["1", "0", "0"], f"privilege levels seen: {privs}, not 1 (after the ecall), "
            "0 (after to-user), 0 (after kp)")


@test(points=5, timeout=5)
def answers(t):
    """labs/boot/answers.md: every question answered."""
    t.check_answers(os.path.join(HERE, "answers.md"))
