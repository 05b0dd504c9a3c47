# Lab shell: the shell and the utilities, typed at as a user would.

import os
import re

from gradelib import *

PROMPT = r"(^|\n)\$ $"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def session(t, *commands, timeout=None, extra_args=()):
    """Boot (with QEMU's extra_args), wait for the prompt, type each command
    after the prompt that follows the previous one, then a last echo whose
    output ends the run. A command may also be a (regex, text) pair: type
    text once regex shows. Returns the output."""
    sends = [c if isinstance(c, tuple) else (PROMPT, c + "\n")
             for c in commands + ("echo end-of-session",)]
    return t.qemu(send=sends, stop=r"^end-of-session$", timeout=timeout, extra_args=extra_args)


def readme_counts(pattern=None):
    """wc's counts of README.md, or of its lines containing pattern."""
    with open(os.path.join(ROOT, "README.md"), "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    if pattern:
        lines = [l for l in lines if pattern.encode() in l]
    data = b"".join(l + b"\n" for l in lines)
    return len(lines), len(data.split()), len(data)


def readme_example(command):
    """The line README.md's example shows after "$ command", or None."""
    with open(os.path.join(ROOT, "README.md")) as f:
        lines = [l.strip() for l in f]
    at = lines.index("$ " + command) if "$ " + command in lines else -1
    return lines[at + 1] if 0 <= at < len(lines) - 1 else None


@test(points=10, timeout=60)
def pipeline(t):
    """cat README.md | grep ExOS | wc counts what Python counts, and what
    README.md's example shows."""
    out = session(t, "cat README.md | grep ExOS | wc", "echo a | cat | cat | cat | wc")
    lines, words, chars = readme_counts("ExOS")
    t.expect(out, r"^%d %d %d $" % (lines, words, chars), r"^1 1 2 $")
    shown = readme_example("cat README.md | grep ExOS | wc")
    t.check(shown == "%d %d %d" % (lines, words, chars),
            f"README.md's example shows {shown!r} for this command, which prints "
            f"'{lines} {words} {chars}': update the example")


@test(points=10, timeout=60)
def redirection(t):
    """< reads a file; > makes or empties one, >> appends; the programs a
    script runs share its output file's offset."""
    out = session(t, "wc < README.md", "echo x > out", "echo y >> out", "cat out",
                  "echo z > out", "cat out", "cat < out > copy; cat copy | wc", "echo a >> new",
                  "wc < new", "echo q > nodir/f", "sh hello.sh > both; cat both")
    lines, words, chars = readme_counts()
    t.expect(out, r"^%d %d %d $" % (lines, words, chars), r"^x\ny\n\$ ", r"^z\n\$ ",
             r"^1 1 2 $", r"^1 1 2 $", r"^sh: nodir/f: no such file or directory$",
             r"^one\n1 1 4 \n\$ ")


@test(points=10, timeout=60)
def files_and_directories(t):
    """mkdir, cd with relative paths, ln, mv, rm; ls shows types and sizes;
    clear messages for what cannot be done."""
    out = session(t, "mkdir d d/e", "cd d/e", "echo hi > f", "ln f g", "ls", "cd ../..",
                  "mv d/e/g top", "cat top", "mv top d", "ls d", "rm d", "rm d/e/f d/top d/e d",
                  "ls d", "mkdir x; mv x x/y", "rm nothing", "ln x lx", "mkdir x", "cat x/../README.md | wc")
    lines, words, chars = readme_counts()
    t.expect(out, r"^f +file +\d+ +3$", r"^g +file +\d+ +3$", r"^\.\. +dir ", r"^hi$",
             r"^top +file +\d+ +3$", r"^e +dir ", r"^rm: d: directory not empty$",
             r"^ls: d: no such file or directory$", r"^mv: x -> x/y: invalid argument$",
             r"^rm: nothing: no such file or directory$", r"^ln: lx -> x: is a directory$",
             r"^mkdir: x: file exists$", r"^%d %d %d $" % (lines, words, chars))


@test(points=10, timeout=60)
def sequence_background_status(t):
    """; runs in order, & in the background, $? is the last status, quotes
    keep spaces, cd works, a script file runs."""
    out = session(t, "echo a; echo b", "sleep 0.2 &", "echo \"x  y\" 'z w'", "grep nomatch README.md",
                  "echo status $?", "cd /", "ls . | grep README", "sh hello.sh", "echo done")
    t.expect(out, r"^a\nb$", r"^\[[0-9a-f]+\]$", r"^x  y z w$", r"^status 1$",
             r"^README\.md +file", r"^one\n1 1 4 $", r"^done$")


@test(points=10, timeout=60)
def errors(t):
    """Clear messages: unknown commands, missing files, bad cd, bad syntax."""
    out = session(t, "nosuch", "echo $?", "cat nofile", "cd nodir", "echo 'open", "| wc", "grep")
    t.expect(out, r"^sh: nosuch: command not found$", r"^127$",
             r"^cat: nofile: no such file or directory$",
             r"^sh: cd: nodir: no such file or directory$", r"^sh: missing '$",
             r"^sh: a pipe needs a command on each side$", r"^usage: grep PATTERN")


@test(points=10, timeout=60)
def console_and_init(t):
    """Backspace and ^U edit the line, ^C cancels it at the prompt and ends
    the foreground job, whether it reads the console or not; exit ends the
    shell and init starts another; ps and free read the exported tables."""
    out = session(t, "ecx\bho edited", "garbage\x15echo fresh", "exit 3", "ps", "free",
                  (PROMPT, "half typed\x03"), "cat", (r"cat\n", "\x03"), "echo cat ended $?",
                  "sleep 600", (r"sleep 600\n", "\x03"), "echo sleep ended $?",
                  "sleep 600 | cat", (r"sleep 600 \| cat\n", "\x03"), "echo pipeline ended $?")
    t.expect(out, r"^edited$", r"^fresh$", r"^cat ended -1$", r"^sleep ended -1$",
             r"^pipeline ended -1$",
             r"^init: the shell ended \(status 3\); starting another$",
             r"^ +[0-9a-f]+ +0 waiting +\d+ init$", r"^ +[0-9a-f]+ +[0-9a-f]+ runnable +\d+ ps$",
             r"^pages: \d+ in all, \d+ free")


@test(points=10, timeout=60)
def xv6_compatibility(t):
    """A program written against xv6's user interface (its include lines,
    names and types, its own panic) builds unchanged with xv6's compiler
    flags and behaves as in xv6: failing calls and bad pointers return -1
    and the program goes on; O_CREATE of a directory and a write past a
    truncated end fail; long names are cut to DIRSIZ; printf takes %l
    forms; reading below the stack ends the program."""
    out = t.qemu(bootargs="init=t_xv6")
    t.expect(out, r"^t_xv6: all \d+ checks passed$", r"^exec from xv6$",
             r"^fprintf to descriptor 2$",
             r"^a read into an unmapped buffer returns -1 and the program goes on: ok$",
             r"^%l forms: -5 18446744073709551615 cafe -9 12 beef -7 7 ff 0x0000000000001000 c s$",
             r"^t_xv6: stack overflow: guard page hit at address 0x[0-9a-f]+ \(pc 0x[0-9a-f]+\)$")
    t.forbid(out, r"FAIL", r"panic", r"unhandled", r"not killed")


@test(points=10, timeout=30)
def paging_from_the_shell(t):
    """pagedemo and t_paging work from the shell, where they hold no disk
    binding of their own: the file server binds them /pagefile's blocks."""
    out = session(t, "pagedemo", "echo demo $?", "t_paging", "echo test $?",
                  extra_args=["-icount", "shift=0"])  # t_paging's deadlines are in instructions
    t.expect(out, r"^pagedemo: 4 scans of 128 pages in 32: own MRU policy: 388 pages read, \d+ ",
             r"^demo 0$", r"^t_paging: all \d+ checks passed$", r"^test 0$")
    t.forbid(out, r"FAIL", r"cannot map", r"panic", r"unhandled")


# Each refused command line, what it must print first, and its usage line.
REFUSED = [
    ("usertests -q", r"usertests: unknown option -q", r"usage: usertests \[-f\] \[TEST\.\.\.\]"),
    ("usertests nosuch", r"usertests: unknown test nosuch", r"usage: usertests "),
    ("ps -a", r"ps: unknown option -a", r"usage: ps"),
    ("free x", r"usage: free", None),
    ("cat -n README.md", r"cat: unknown option -n", r"usage: cat \[FILE\.\.\.\]"),
    ("kill zz", r"kill: zz: not a pid \(hexadecimal, as ps shows it\)", None),
    ("exit abc", r"sh: exit: abc: not a number", None),
    ("cd a b", r"usage: cd \[DIR\]", None),
    ("t_sound nosuch", r"t_sound: unknown group nosuch", r"usage: t_sound \[GROUP\.\.\.\]"),
    ("fuzz seed=x", r"fuzz: unknown argument seed=x", r"usage: fuzz "),
    ("exobench -q", r"exobench: unknown argument -q", r"usage: exobench "),
]


@test(points=10, timeout=30)
def unknown_arguments_refused(t):
    """Unknown options, test names, groups and rows are errors: a message,
    the usage, status 2, and nothing run (usertests -q once ran no test and
    said "all 0 tests passed"); sh's builtins cd and exit check theirs;
    after "--" an argument is an operand however it starts."""
    commands = [c for line, _, _ in REFUSED for c in (line, "echo status $?")]
    out = session(t, *commands, "ls -- -x")
    for line, first, usage in REFUSED:
        t.expect(out, r"^\$ %s\n%s\n%s\$ echo status \$\?\nstatus 2$"
                 % (re.escape(line), first, usage + ".*\n" if usage else ""))
    t.expect(out, r"^ls: -x: no such file or directory$")
    t.forbid(out, r"tests passed", r"^# rvexo", r"checks passed", r"^benchmark ")
