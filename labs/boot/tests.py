# Lab boot: the machine comes up under OpenSBI, the kernel reports itself,
# runs its first user program, and explains its own failures.

from gradelib import *

BANNER = r"^rvexo: exokernel for RISC-V, 1 hart \(booted on hart \d+\), 128 MiB RAM"


@test(points=5, timeout=10)
def banner(t):
    out = t.qemu(stop=r"init: hello")
    t.expect(out, BANNER)
    t.forbid(out, r"panic", r"kernel trap")


@test(points=5, timeout=10, parent=banner)
def init_runs(t):
    """init prints through a system call and starts the shell."""
    out = t.qemu(stop=r"\$ ")
    t.expect(out, r"^init: hello from user space, environment [0-9a-f]+$", r"^\$ ")


@test(points=5, timeout=10, parent=banner)
def two_harts(t):
    """With CPUS=2 the second hart stays parked and init still runs."""
    out = t.qemu(extra_args=["-smp", "2"], stop=r"init: hello from user space.*\n")
    t.expect(out,
             r"^rvexo: exokernel for RISC-V, 2 harts",
             r"^rvexo: harts other than \d+ stay parked in the firmware$",
             r"^init: hello from user space")


@test(points=5, timeout=10, parent=banner)
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


@test(points=10, timeout=10, parent=banner)
def panic_backtrace(t):
    """A panic prints file:line and names every function on the way to it."""
    out = t.qemu(bootargs="ktest=panic")
    t.expect(out,
             r"^panic at kernel/ktest\.c:\d+: ktest: deliberate panic \(42\)$",
             r"^backtrace:$",
             r"^  #0 0x[0-9a-f]{16} panic_at\+0x[0-9a-f]+$",
             r"^  #1 0x[0-9a-f]{16} ktest_panic\+0x[0-9a-f]+$",
             r"^  #2 0x[0-9a-f]{16} ktest_run\+0x[0-9a-f]+$",
             r"^  #3 0x[0-9a-f]{16} kmain\+0x[0-9a-f]+$")
    t.forbid(out, r"^init:", r" \?$")


@test(points=10, timeout=10, parent=banner)
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


@test(points=10, timeout=30, parent=banner)
def gdb(t):
    """GDB stops in the kernel with the right caller, then in init's main."""
    out, _ = t.gdb(["break pmap_init", "continue", "bt",
                    "hbreak main", "continue", "bt 1", "print argv[0]", "kill"])
    t.expect(out,
             r"^Breakpoint 1, pmap_init \(\) at kernel/pmap\.c:\d+",
             r"^#1 +0x[0-9a-f]+ in kmain \(",
             r"^Breakpoint 2, main \(argc=1, argv=0x[0-9a-f]+\) at user/init\.c:\d+",
             r'^\$1 = 0x[0-9a-f]+ "init"$')
