#!/usr/bin/env bash
# Call 1 on the GPU machine: keeps the carried wheels and GGUF part 1 in /tmp (a carried path is gone at the
# next call; /tmp lasts while the machine stays warm), reports the machine, and installs the wheels so a
# missing dependency shows here, in a call of seconds, not in the long call 2.
#
#   run: command "bash benchmarks/gpu/stage.sh",
#        carry [".gpu-carry/wheels", ".gpu-carry/smollm2.gguf.part1", ".gpu-carry/smollm2.gguf.sha256"]
set -euo pipefail
# shellcheck source=benchmarks/gpu/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

print_environment
mkdir -p "$STAGE"
rm -rf "$STAGE/wheels"
cp -r "$CARRY/wheels" "$STAGE/wheels"
cp "$CARRY/smollm2.gguf.part1" "$STAGE/"
if [[ -f $CARRY/smollm2.gguf.sha256 ]]; then
  cp "$CARRY/smollm2.gguf.sha256" "$STAGE/"
  (cd "$STAGE" && grep ' smollm2.gguf.part1$' smollm2.gguf.sha256 | sha256sum -c -)
fi
install_wheels
du -sh "$STAGE"/* "$TARGET"/*
echo "staged: now call run with bash benchmarks/gpu/run.sh and part 2 carried, while this machine is warm"
