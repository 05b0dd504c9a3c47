#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image
# (choose the Ubuntu 24.04 base image: 22.04's QEMU is older than 7.2).
# It installs the same Debian packages as the repository's CI.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq make gcc python3 git \
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
  qemu-system-misc opensbi gdb-multiarch >/dev/null
make -C /autograder/source/rvexo doctor
