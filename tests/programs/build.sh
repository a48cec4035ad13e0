#!/bin/sh
# Builds every test program into $1 (default: ./build) and, with a second
# argument --bless, runs each under QEMU and writes
# tests/expected/<prog>.out and <prog>.status.
# The Rust harness (tests/common/mod.rs) does the same; this script is for
# working on the programs without cargo.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
mkdir -p "$out"
CC=${CC:-riscv64-unknown-elf-gcc}
CFLAGS="-march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static -O2 -ffreestanding -fno-builtin -Wall -I$here/common -T $here/common/link.ld -Wl,--no-warn-rwx-segments"
for src in "$here"/*.c "$here"/*.S; do
  name=$(basename "$src"); name=${name%.*}
  $CC $CFLAGS -o "$out/$name.elf" "$here/common/crt.S" "$here/common/runtime.c" "$src" -lgcc
done


# --bless: regenerate tests/expected from QEMU (same as SV39_BLESS=1 cargo test).
if [ "${2:-}" = "--bless" ]; then
  expected=$here/../expected
  mkdir -p "$expected"
  for elf in "$out"/*.elf; do
    name=$(basename "$elf" .elf)
    case $name in htif_*) machine=spike ;; *) machine=virt ;; esac
    set +e
    timeout 120 qemu-system-riscv64 -M $machine -m 128M -nographic -bios none -kernel "$elf" \
      </dev/null >"$expected/$name.out"
    echo $? >"$expected/$name.status"
    set -e
    echo "$name: status $(cat "$expected/$name.status")"
  done
fi
