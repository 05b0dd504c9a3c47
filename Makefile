# rvexo: build, run, debug and grade.
#
#   make / make build   build the kernel and user programs
#   make qemu           build and boot under QEMU (quit: Ctrl-A x)
#   make view           the same, and a live view of the machine in the browser
#   make qemu-gdb       boot halted, waiting for GDB on this user's port
#   make gdb            start GDB connected to `make qemu-gdb`
#   make grade          run the lab tests (LAB=name, T="test ...")
#   make test           run every test (what CI runs)
#   make stress N=20    run every test N times beside busy loops; list the flaky ones
#   make bench          instruction counts of every primitive (BENCH=quick: brief)
#   make demo           the lecture demos (NAME=x runs one)
#   make layers         check that ExOS's files call only down its layers (README)
#   make handout LAB=x  the tree for lab x, its solutions removed (DEST=dir,
#                       default ../rvexo-x; never overwrites)
#   make handout-repo DEST=dir    a class's git repository, a branch per lab
#   make release-solution LAB=x REPO=dir   add branch solution/x to it
#   make verify-labs    check every lab: starters, earlier labs, wrong solutions
#   make grade-class LAB=x DIR=dir  grade every submission in dir (J=2 at once)
#   make autograder LAB=x           the zip for Gradescope (build/autograder-x.zip)
#   make doctor         show the tools found and what is missing
#   make compile_commands.json   the compilation database for clangd (editors)
#   make clean          remove build products
#
# Variables: CPUS=n (harts, default 1), MEM=size (default 128M), D=1 (log
# interrupts and guest errors to qemu.log), NET_UDP_PORT=n NET_TCP_PORT=n
# (the host ports make qemu forwards to the machine), ARGS="..." (kernel boot
# arguments), ICOUNT=1 (-icount shift=0), BENCH=quick (make bench, briefly),
# TOOLPREFIX=riscv64-xxx- (cross tools to use), VIEW=1 (make qemu serves the
# live view too), VIEW_PORT=n (its port; default any free one).

# ---------------------------------------------------------------- tools

CROSS_PREFIXES := riscv64-unknown-elf- riscv64-linux-gnu- riscv64-elf- riscv64-none-elf-
DEBIAN_PACKAGES := gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf qemu-system-misc opensbi gdb-multiarch

have = $(shell command -v $(1) >/dev/null 2>&1 && echo yes)

ifndef TOOLPREFIX
TOOLPREFIX := $(firstword $(foreach p,$(CROSS_PREFIXES),$(if $(and $(call have,$(p)gcc),$(call have,$(p)ld)),$(p))))
endif
QEMU ?= qemu-system-riscv64
GDB ?= $(firstword $(foreach g,gdb-multiarch $(addsuffix gdb,$(CROSS_PREFIXES)),$(if $(call have,$(g)),$(g))))

# QEMU 7.2 or newer (older ones lack parts of the virt machine we rely on).
QEMU_VERSION := $(shell $(QEMU) --version 2>/dev/null | sed -n '1s/.*version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
QEMU_OK := $(shell echo "$(QEMU_VERSION)" | awk -F. '$$1 > 7 || ($$1 == 7 && $$2 >= 2) { print "yes" }')

MISSING := $(if $(TOOLPREFIX),,riscv64-cross-gcc) $(if $(QEMU_OK),,qemu-system-riscv64>=7.2) $(if $(GDB),,riscv64-gdb)

# OpenSBI from the opensbi package when installed, else QEMU's own copy.
OPENSBI := $(firstword $(wildcard /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin /usr/share/opensbi/lp64/generic/firmware/fw_dynamic.bin))
BIOS := $(if $(OPENSBI),$(OPENSBI),default)

CC := $(TOOLPREFIX)gcc
LD := $(TOOLPREFIX)ld
OBJCOPY := $(TOOLPREFIX)objcopy
OBJDUMP := $(TOOLPREFIX)objdump
NM := $(TOOLPREFIX)nm

# Add a compiler flag only if this GCC accepts it.
cc-option = $(shell $(CC) -Werror $(1) -c -x c /dev/null -o /dev/null >/dev/null 2>&1 && echo $(1))

# Integer ISA only, kernel and user alike: ExOS does not save FP state yet.
# GCC 12 and later want the CSR and fence.i extensions named.
MARCH := $(or $(call cc-option,-march=rv64imac_zicsr_zifencei -mabi=lp64),-march=rv64imac -mabi=lp64)

CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
	$(call cc-option,-Wimplicit-fallthrough) $(call cc-option,-Wvla) -ffixed-gp \
	$(MARCH) -mcmodel=medany -mno-relax \
	-ffreestanding -fno-builtin -fno-common -fno-pie -fno-stack-protector \
	-fno-tree-loop-distribute-patterns \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls -ffunction-sections -fdata-sections \
	-MMD -MP -I. -Iulib/xv6
ASFLAGS := $(MARCH) -mno-relax -g -MMD -MP -I.
LDFLAGS := -nostdlib -z max-page-size=4096 --no-relax
# User programs link all of ExOS; what a program never calls is left out
# (the file server's code, in all but fsd).
ULDFLAGS := --gc-sections

# ---------------------------------------------------------------- files

B := build

KERNEL_SRCS := entry.S main.c printf.c fmt.c string.c symtab.c uart.c plic.c sbi.c smp.c fdt.c \
	pmap.c pte.c env.c sched.c pct.c revoke.c virtio.c disk.c net.c dpf.c trap.c trapvec.S syscall.c ktest.c
KERNEL_SRCS += ash.c
KERNEL_OBJS := $(patsubst %,$(B)/kernel/%.o,$(basename $(KERNEL_SRCS))) $(B)/kernel/progs.o

ULIB_SRCS := ulib/entry.S ulib/libmain.c ulib/hooks.c ulib/printf.c ulib/usys.S ulib/xentry.S ulib/exception.c \
	ulib/lock.c ulib/vm.c ulib/heap.c ulib/fork.c ulib/context.S ulib/stride.c ulib/revoke.c ulib/thread.c \
	ulib/diskfs.c ulib/spawn.c ulib/exec.S ulib/rpc.c ulib/rpc_entry.S ulib/fd.c ulib/pipe.c ulib/console.c ulib/compat.c ulib/fs.c ulib/fsclient.c \
	ulib/ether.c ulib/ip.c ulib/udp.c ulib/tcp.c ulib/socket.c kernel/fmt.c kernel/string.c kernel/symtab.c
ULIB_SRCS += ulib/ucopy.S
ULIB_SRCS += ulib/ash.c
ULIB_OBJS := $(patsubst %,$(B)/ulib/%.o,$(notdir $(basename $(ULIB_SRCS))))

# User programs: user/NAME.c becomes $(B)/user/NAME. All are built into the
# kernel image for now; the kernel starts init, or NAME with ARGS=init=NAME.
UPROGS := init fsd t_sound t_orphan t_pte t_bind t_env t_sched t_pct t_revoke t_disk t_exos t_fork stride t_crash t_overflow t_xoverflow echo t_spawn t_paging pagedemo t_rpc t_thread t_cond t_pipe t_pipestress t_fsfirst t_memback sh cat grep wc ls ps free kill sleep t_xv6 exobench mkdir rm ln mv t_crashfs usertests fuzz t_net netd ping udpecho httpd nc t_smp t_sibling t_hart smpbench
UPROGS += t_ash t_ip
UPROGS += demo demo_bench demo_bindings demo_stride demo_revoke  # the demos (below)
UPROG_FILES := $(addprefix $(B)/user/,$(UPROGS))

# Programs written for xv6 (XV6PROGS, in UPROGS too) build with xv6's own
# compiler flags, and find its headers (ulib/xv6) before the root's.
XV6PROGS := t_xv6
XV6_CFLAGS := -Wall -Werror -O -fno-omit-frame-pointer -ggdb -gdwarf-2 $(MARCH) -MMD -MP \
	-mcmodel=medany -ffreestanding -fno-common -nostdlib -mno-relax -ffixed-gp \
	$(addprefix -fno-builtin-,strncpy strncmp strlen memset memmove memcmp log bzero strchr \
	  exit malloc putc free memcpy printf fprintf vprintf) -Wno-main \
	-Iulib/xv6 -I. -fno-stack-protector -fno-pie
$(XV6PROGS:%=$(B)/user/%.o): CFLAGS := $(XV6_CFLAGS)

# Files besides the programs that go into the file system: pagefile is
# 512 KiB of zeros, the backing store the paging tests and demo use;
# hello.sh a shell script the shell's tests run.
FS_EXTRA := README.md user/hello.sh $(B)/pagefile $(B)/mib

KERNEL := $(B)/kernel/kernel
MKFS := $(B)/mkfs/mkfs
DISK := $(B)/fs.img
HOSTCC ?= cc

# ---------------------------------------------------------------- rules

.PHONY: all build qemu view qemu-gdb gdb grade test stress bench profile layers handout handout-repo release-solution verify-labs grade-class autograder doctor clean print-qemu print-gdbport print-gdb tools
.DEFAULT_GOAL := all

# Something is missing: install it on Debian/Ubuntu, or say how, then run
# the goals again, once (the rules for them below are left out while
# something is missing: a second recipe would override this one). If the
# installation did not bring everything, say what is still missing.
TOOL_GOALS := all build qemu qemu-gdb gdb grade test stress bench profile layers
ifneq ($(strip $(MISSING)),)
ifndef RVEXO_TOOLS_TRIED
$(TOOL_GOALS): tools
	@$(MAKE) --no-print-directory RVEXO_TOOLS_TRIED=1 $(MAKECMDGOALS)
else
$(TOOL_GOALS):
	@echo "rvexo: still missing after the installation: $(strip $(MISSING)) (see make doctor)"; exit 1
endif
endif

tools:
	@echo "rvexo: missing: $(strip $(MISSING))"
	@if [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "rvexo: installing the Debian packages: $(DEBIAN_PACKAGES)"; \
	  echo "+ $$sudo apt-get install -y $(DEBIAN_PACKAGES)"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null \
	    || { echo "rvexo: installation failed"; exit 1; }; \
	else \
	  echo "rvexo: install a RISC-V cross GCC ($(CROSS_PREFIXES:=gcc)), qemu-system-riscv64 7.2+"; \
	  echo "       and gdb-multiarch. On Debian or Ubuntu:"; \
	  echo "         sudo apt-get install $(DEBIAN_PACKAGES)"; \
	  echo "       Or set TOOLPREFIX=... to your cross tools' prefix."; \
	  exit 1; \
	fi

ifeq ($(strip $(MISSING)),)
all build: $(KERNEL) $(DISK) $(B)/mkfs/fsck
endif

# The disk: a file system of FS_BLOCKS 4 KiB blocks holding the user
# programs (without their debugging information, which GDB reads from
# build/user/) and FS_EXTRA.
FS_BLOCKS := 4096
FS_INODES := 1024
FS_PROGS := $(addprefix $(B)/fs/,$(UPROGS))
$(DISK): $(MKFS) $(FS_PROGS) $(FS_EXTRA)
	$(MKFS) -s $(FS_BLOCKS) -i $(FS_INODES) $@ $(FS_PROGS) $(FS_EXTRA) >/dev/null

$(B)/fs/%: $(B)/user/%
	@mkdir -p $(@D)
	$(OBJCOPY) --strip-debug $< $@

$(B)/pagefile:
	@mkdir -p $(@D)
	head -c 524288 /dev/zero > $@

# /mib: 1 MiB of pseudo-random bytes (always the same) for httpd to serve
# (labs/net/tests.py fetches it and compares its hash).
$(B)/mib:
	@mkdir -p $(@D)
	python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(15).randbytes(1 << 20))' > $@

# mkfs runs on the host.
$(B)/mkfs/mkfs: mkfs/mkfs.c ulib/fsformat.h
	@mkdir -p $(@D)
	$(HOSTCC) -O2 -std=c11 -Wall -Wextra -Werror -I. -o $@ mkfs/mkfs.c

# fsck checks an image (mkfs/README.md).
$(B)/mkfs/fsck: mkfs/fsck.c ulib/fsformat.h
	@mkdir -p $(@D)
	$(HOSTCC) -O2 -std=c11 -Wall -Wextra -Werror -I. -o $@ mkfs/fsck.c

# Every object depends on the compiler and its flags, written to $(FLAGS)
# and rewritten only when they change (make CFLAGS=... rebuilds all).
FLAGS := $(B)/flags
$(FLAGS): .FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS) / $(ASFLAGS) / $(XV6_CFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CFLAGS) / $(ASFLAGS) / $(XV6_CFLAGS)' > $@
.PHONY: .FORCE

$(B)/kernel/%.o: kernel/%.c $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/kernel/%.o: kernel/%.S $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $@ $<

$(B)/kernel/progs.o: kernel/progs.sh $(UPROG_FILES) $(FLAGS)
	@mkdir -p $(@D)
	kernel/progs.sh $(UPROG_FILES) > $(B)/kernel/progs.S
	$(CC) $(ASFLAGS) -c -o $@ $(B)/kernel/progs.S

# Two-pass link: the first pass has an empty symbol table; its function
# symbols become the table in the second. The table sits after all code,
# so no function moves between the passes (checked below).
$(KERNEL): $(KERNEL_OBJS) kernel/kernel.ld kernel/ksyms.sh $(B)/kernel/ksyms0.o
	$(LD) $(LDFLAGS) -T kernel/kernel.ld -o $@.pass1 $(KERNEL_OBJS) $(B)/kernel/ksyms0.o
	kernel/ksyms.sh $(NM) $@.pass1 > $(B)/kernel/ksyms.S
	$(CC) $(ASFLAGS) -c -o $(B)/kernel/ksyms.o $(B)/kernel/ksyms.S
	$(LD) $(LDFLAGS) -T kernel/kernel.ld -o $@ $(KERNEL_OBJS) $(B)/kernel/ksyms.o
	@kernel/ksyms.sh $(NM) $@ | cmp -s - $(B)/kernel/ksyms.S || \
	  { echo "kernel: functions moved between link passes"; rm -f $@; exit 1; }
	$(OBJDUMP) -S $@ > $(B)/kernel/kernel.asm

$(B)/ulib/%.o: ulib/%.c $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/ulib/%.o: ulib/%.S $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $@ $<

$(B)/ulib/%.o: kernel/%.c $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/user/%.o: user/%.c $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# User programs carry their own symbol table (for ExOS's backtraces), made
# by the same two-pass link as the kernel's. ExOS reserves gp (ulib/xentry.S):
# no program may define __global_pointer$, which linker relaxation would use.
$(B)/user/%: $(B)/user/%.o $(ULIB_OBJS) user/user.ld kernel/ksyms.sh $(B)/kernel/ksyms0.o
	$(LD) $(LDFLAGS) $(ULDFLAGS) -T user/user.ld -o $@.pass1 $(ULIB_OBJS) $< $(B)/kernel/ksyms0.o
	kernel/ksyms.sh $(NM) $@.pass1 > $@.ksyms.S
	$(CC) $(ASFLAGS) -c -o $@.ksyms.o $@.ksyms.S
	$(LD) $(LDFLAGS) $(ULDFLAGS) -T user/user.ld -o $@ $(ULIB_OBJS) $< $@.ksyms.o
	@! $(NM) $@ | grep -q __global_pointer || { echo "$@ defines __global_pointer$$ (gp is ExOS's)"; exit 1; }
	$(OBJDUMP) -S $@ > $@.asm

$(B)/kernel/ksyms0.o: kernel/ksyms.sh
	@mkdir -p $(@D)
	kernel/ksyms.sh $(NM) > $(B)/kernel/ksyms0.S
	$(CC) $(ASFLAGS) -c -o $@ $(B)/kernel/ksyms0.S

.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- running

CPUS ?= 1
MEM ?= 128M
GDBPORT := $(shell expr $$(id -u) % 5000 + 25000)

# The kernel's disk driver asks for no write cache, so QEMU would push every
# write through to the host's disk; cache=unsafe lets the host's page cache
# keep them (the image is a scratch copy: only a crash of the host could
# lose what the machine wrote). The file system's order of writes, which
# is what a crash of the machine tests, is kept either way.
# aclint=on gives the machine an ACLINT SSWI device, through which the
# kernel interrupts other harts without a call into the firmware
# (kernel/sbi.c; the firmware's way still works without it).
QEMUBASE := -machine virt,aclint=on -nographic -bios $(BIOS) -kernel $(KERNEL) -m $(MEM) \
	-global virtio-mmio.force-legacy=false \
	-drive file=$(DISK),if=none,format=raw,id=disk0,cache=unsafe -device virtio-blk-device,drive=disk0
QEMUOPTS := $(QEMUBASE) -smp $(CPUS)

# The network: QEMU's user-mode stack in restricted mode (the machine
# reaches nothing beyond it: no DNS, no outbound connection), forwarding
# UDP port NET_UDP_PORT and TCP port NET_TCP_PORT of the host's 127.0.0.1
# (and nothing else) to the machine's ports 7 (UDP echo) and 80 (HTTP).
# (Restricted, QEMU's stack drops every UDP datagram the machine sends, so
# the UDP port carries datagrams in only; the TCP port works both ways.)
# make qemu and qemu-gdb forward this user's ports (by default 30000 +
# uid % 5000, as GDBPORT); the grader's and make bench's machines forward
# from port 0, any port free at the time, so that machines booted at once
# never collide. No IPv6: its stack would send router advertisements
# unasked, now and then. A test that gives its own -netdev (labs/netwire.py:
# -netdev socket on 127.0.0.1, raw frames in and out) replaces this one.
NET_UDP_PORT ?= $(shell expr $$(id -u) % 5000 + 30000)
NET_TCP_PORT ?= $(NET_UDP_PORT)
qemunet = -netdev user,id=net0,restrict=on,ipv6=off,hostfwd=udp:127.0.0.1:$(1)-:7,hostfwd=tcp:127.0.0.1:$(2)-:80 \
	-device virtio-net-device,netdev=net0
ifeq ($(D),1)
QEMUOPTS += -d int,guest_errors -D qemu.log -no-reboot
endif
ifeq ($(ICOUNT),1)
QEMUOPTS += -icount shift=0  # one instruction per virtual ns: rdinstret counts are exact
endif
QEMUARGS := $(if $(ARGS),-append "$(ARGS)")

# make bench: one hart, -icount shift=0 (rdinstret exact), the disk
# read-only, init=exobench; labs/bench.py shows the table and writes
# build/bench.json. BENCH=quick: few iterations; other words of BENCH name
# the rows to measure (BENCH="quick pte-write"). Unless rows are named, a
# second machine, of four harts, then runs smpbench (the scaling rows; sleep=off:
# the same counts every run), added to bench.json as "scaling".
BENCH ?=
BENCHOPTS := $(QEMUBASE) -snapshot -smp 1 -icount shift=0 $(call qemunet,0,0)
BENCHARGS := init=exobench$(if $(filter quick,$(BENCH)), bench=quick)$(foreach r,$(filter-out quick full,$(BENCH)), $(r))
SCALINGOPTS := $(QEMUBASE) -snapshot -smp 4 -icount shift=0,sleep=off
SCALINGARGS := init=smpbench$(if $(filter quick,$(BENCH)), quick)

ifeq ($(strip $(MISSING)),)
qemu: $(KERNEL) $(DISK)
	@echo "*** Booting rvexo (quit QEMU: Ctrl-A x)"
	@echo "*** Forwarding 127.0.0.1 UDP $(NET_UDP_PORT) and TCP $(NET_TCP_PORT) to the machine's 7 and 80"
	@$(VIEW_WRAP)$(QEMU) $(QEMUOPTS) $(call qemunet,$(NET_UDP_PORT),$(NET_TCP_PORT)) $(QEMUARGS); s=$$?; \
	  [ $$s = 0 ] || echo "*** QEMU exited with status $$s"; exit $$s

qemu-gdb: $(KERNEL) $(DISK) .gdbinit
	@echo "*** Waiting for GDB on port $(GDBPORT): run 'make gdb' in another terminal"
	@$(QEMU) $(QEMUOPTS) $(call qemunet,$(NET_UDP_PORT),$(NET_TCP_PORT)) $(QEMUARGS) -S -gdb tcp::$(GDBPORT)

gdb: .gdbinit
	$(GDB) -q -nx -x .gdbinit

grade: $(KERNEL) $(DISK) $(B)/mkfs/fsck
	./grade-lab --no-build $(LAB) $(T)

test: $(KERNEL) $(DISK) $(B)/mkfs/fsck
	./grade-lab --no-build

stress: $(KERNEL) $(DISK) $(B)/mkfs/fsck
	@python3 labs/stress.py -n $(or $(N),10) $(LAB) $(T)

bench: $(KERNEL) $(DISK)
	@python3 labs/bench.py --json $(B)/bench.json -- $(QEMU) $(BENCHOPTS) -append "$(BENCHARGS)"
	@$(if $(filter-out quick full,$(BENCH)),:,python3 labs/bench.py --scaling --json $(B)/bench.json \
	  -- $(QEMU) $(SCALINGOPTS) -append "$(SCALINGARGS)")

# make profile ROW=fork-exit-wait: where one row's instructions go, by
# function (labs/profile.py; PROG=fsd also names user code in fsd; RUNS=1:
# each run's total, and where the runs differ; BEFORE="rows": measure
# these first).
profile: $(KERNEL) $(DISK)
	@test -n "$(ROW)" || { echo "usage: make profile ROW=<an exobench row> [PROG=fsd,...]"; exit 2; }
	@python3 labs/profile.py --nm $(NM) $(if $(PROG),--prog $(PROG)) $(if $(RUNS),--runs) $(ROW) -- $(QEMU) $(BENCHOPTS) \
	  -append "init=exobench bench=quick $(BEFORE) $(ROW)"

# ExOS's call graph, from its objects, against the layers the README lists.
layers: $(ULIB_OBJS)
	@python3 labs/layers.py --nm $(NM) $(ULIB_OBJS)
endif

# ---------------------------------------------------------------- the live view

# make view, or make qemu VIEW=1: boot as make qemu does (the console in
# this terminal) and serve a live view of the machine on 127.0.0.1
# (labs/view.py reads the kernel's exported tables through QEMU's QMP
# socket; the address is printed first). VIEW_PORT=n: its port (default
# 0, any free one).
VIEW_PORT ?= 0
VIEW_WRAP = $(if $(filter 1,$(VIEW)),python3 labs/view.py --port $(VIEW_PORT) --gdb $(GDB) --kernel $(KERNEL) -- )

view:
	@$(MAKE) --no-print-directory qemu VIEW=1

handout:
	@test -n "$(LAB)" || { echo "usage: make handout LAB=name [DEST=dir]"; exit 1; }
	@python3 labs/handout.py $(LAB) $(DEST)

handout-repo:
	@test -n "$(DEST)" || { echo "usage: make handout-repo DEST=dir"; exit 1; }
	@python3 labs/handout.py --repo $(DEST)

release-solution:
	@test -n "$(LAB)" -a -n "$(REPO)" || { echo "usage: make release-solution LAB=name REPO=dir"; exit 1; }
	@python3 labs/handout.py --solution $(LAB) $(REPO)

verify-labs:
	@python3 labs/verify.py -j $(or $(J),2) $(LAB)

grade-class:
	@test -n "$(LAB)" -a -n "$(DIR)" || { echo "usage: make grade-class LAB=name DIR=submissions [J=2]"; exit 1; }
	@python3 labs/classgrade.py $(LAB) $(DIR) -j $(or $(J),2)

autograder:
	@test -n "$(LAB)" || { echo "usage: make autograder LAB=name"; exit 1; }
	@python3 labs/classgrade.py $(LAB) --autograder $(B)/autograder-$(LAB).zip

# ---------------------------------------------------------------- replay
# The grader records every machine a test boots (QEMU's record/replay:
# labs/gradelib.py, _Recorder) and keeps the recordings of failed tests in
# build/grade/<lab>-<test>.rr/ (RECORD=0 with make grade, or ./grade-lab
# --no-record: record nothing). make replay T=lab/test runs the failed run
# again and checks its console prints the same bytes; make replay-gdb
# T=lab/test does it under GDB, where icount, seek, back and last-write go
# back in time (labs/rr.py). RUN=k: the test's k-th boot (default: its last).
.PHONY: replay replay-gdb
replay replay-gdb:
	@test -n "$(T)" || { echo "usage: make $@ T=lab/test [RUN=k] (the line under a failed test says it)"; exit 2; }
	@python3 labs/replay.py $(if $(filter replay-gdb,$@),--gdb) $(if $(RUN),--run $(RUN)) $(T)

.gdbinit: .gdbinit.tmpl Makefile
	sed -e 's/@GDBPORT@/$(GDBPORT)/g' -e 's|@BUILD@|$(B)|g' $< > $@

# The compilation database an editor's clangd reads (README, "Editors"):
# every compilation of a full build, with its flags (labs/compile_commands.py).
compile_commands.json: Makefile labs/compile_commands.py
	@python3 labs/compile_commands.py $@

print-qemu:
	@echo $(QEMU) $(QEMUOPTS) $(call qemunet,0,0)

print-gdbport:
	@echo $(GDBPORT)

print-gdb:
	@echo $(GDB)

doctor:
	@echo "cross compiler:  $(if $(TOOLPREFIX),$(CC) ($$($(CC) --version | head -1)),MISSING (tried $(CROSS_PREFIXES:=gcc)))"
	@echo "qemu:            $(if $(QEMU_VERSION),$(QEMU) $(QEMU_VERSION)$(if $(QEMU_OK),, -- TOO OLD: need 7.2 or newer),MISSING ($(QEMU)))"
	@echo "firmware:        $(if $(OPENSBI),$(OPENSBI),QEMU's built-in OpenSBI (-bios default))"
	@echo "gdb:             $(if $(GDB),$(GDB) ($$($(GDB) --version | head -1)),MISSING (gdb-multiarch or riscv64-*-gdb))"
	@echo "python3:         $$(python3 --version 2>&1 || echo MISSING)"
	@echo "gdb port:        $(GDBPORT)"
	@if [ -n "$(strip $(MISSING))" ]; then \
	  echo "missing:         $(strip $(MISSING))"; \
	  echo "install with:    sudo apt-get install $(DEBIAN_PACKAGES)"; \
	else echo "all tools present"; fi

clean:
	rm -rf $(B) .gdbinit qemu.log

# ---------------------------------------------------------------- demos

# The lecture demos (README.md, "Demos"; the list is user/demo.c's table).
# make demo: list them; make demo NAME=x: run one, as the first program
# under -icount shift=0 (counts exact), the disk a scratch copy
# (labs/demo.py; crash boots twice on one copy, ash puts labs/bench.py's
# peer on the wire; N=k: crash at write k). From the shell: demo, demo x. (Their programs are in
# UPROGS above: the disk's rules need them there.) VIEW=1: under the live
# view, at the view pace (demo -v: each state worth seeing held HOLD
# seconds, default 2; user/demo.h, labs/demo.py); not crash, ash, fuzz.
DEMOOPTS := $(QEMUBASE) -smp 1 -icount shift=0 $(call qemunet,0,0)
HOLD ?= 2

.PHONY: demo
ifeq ($(strip $(MISSING)),)
demo: $(KERNEL) $(DISK) $(B)/mkfs/fsck
	@python3 labs/demo.py $(if $(filter 1,$(VIEW)),--pace $(HOLD)) $(NAME) $(N) -- $(VIEW_WRAP)$(QEMU) $(DEMOOPTS)
endif
