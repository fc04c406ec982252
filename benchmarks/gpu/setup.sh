# Sourced by stage.sh and run.sh on the GPU machine: settings, the environment report, the wheel install.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEVICE=${NAA_GPU_DEVICE:-cuda}                # cpu: the dry run on the dev machine (README.md)
PY=${NAA_GPU_PYTHON:-python3}                 # the image's python3 holds torch
# shellcheck disable=SC2034 # read by stage.sh and run.sh
CARRY=${NAA_GPU_CARRY:-$ROOT/.gpu-carry}      # where the `run` tool puts carried paths
STAGE=${NAA_GPU_STAGE:-/tmp/naa-carry}        # outlives the call (a carried path does not)
TARGET=${NAA_GPU_TARGET:-/tmp/naa-py}         # pip --target folders: $TARGET/naa, $TARGET/trl
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

print_environment() {
  echo "== $(date -u +%FT%TZ) $(hostname) device=$DEVICE python=$(command -v "$PY")"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm --format=csv
  else
    echo "nvidia-smi: not found"
  fi
  # The versions these benchmarks and the carried wheels lean on; "-" where the image lacks the package.
  "$PY" - <<'EOF'
import importlib.metadata as md, platform

def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "-"

names = ("torch transformers accelerate peft tokenizers huggingface-hub safetensors numpy typing-extensions "
         "pyyaml rich scikit-learn pyarrow pandas fsspec xxhash requests pip pydantic gguf trl datasets")
print("python", platform.python_version(), "|", "  ".join(f"{n} {version(n)}" for n in names.split()))
EOF
}

_installable() { # folder: the wheels there whose distribution the image lacks or has at an older version
  "$PY" - "$1" <<'EOF'
import importlib.metadata as md, pathlib, sys
from packaging.version import Version
for wheel in sorted(pathlib.Path(sys.argv[1]).glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        have = None
    if have is None or Version(have) < Version(version):
        print(wheel)
    else:
        print(f"image has {name} {have} >= {version}: not installed", file=sys.stderr)
EOF
}

_install_group() { # group: wheels/<group> -> $TARGET/<group>, skipped when the same wheels are in already
  local group=$1 wheels
  local listing
  listing=$(ls "$STAGE/wheels/$group")
  if [[ -f $TARGET/$group/.naa-installed && $(cat "$TARGET/$group/.naa-installed") == "$listing" ]]; then
    echo "== wheels/$group already installed in $TARGET/$group"
    return 0
  fi
  mapfile -t wheels < <(_installable "$STAGE/wheels/$group")
  rm -rf "${TARGET:?}/$group"
  mkdir -p "$TARGET/$group"
  echo "== installing into $TARGET/$group: ${wheels[*]##*/}"
  # --target ignores what is installed (pip sets ignore_installed), so its dependency resolution would
  # fetch torch itself: --no-deps, with every needed wheel carried and named.
  if ((${#wheels[@]})); then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$TARGET/$group" "${wheels[@]}" || return 1
  fi
  echo "$listing" >"$TARGET/$group/.naa-installed"
}

# Installs the carried wheels and sets PYTHONPATH: $TARGET/naa always (import naa.rl must work), and
# $TARGET/trl only where `from trl import GRPOTrainer` works with it, so a trl that breaks on this image's
# versions never reaches the benchmarks.
install_wheels() {
  [[ -d $STAGE/wheels ]] || {
    echo "no $STAGE/wheels: run benchmarks/gpu/stage.sh first on this warm machine" >&2
    return 1
  }
  _install_group naa || return 1
  export PYTHONPATH=$TARGET/naa:$ROOT
  local naa_check="import importlib.metadata as md, gguf, pydantic, naa.rl, naa.rl.trainer, naa.rl.evaluation
print('import naa.rl: ok, pydantic', md.version('pydantic'), 'gguf', md.version('gguf'))"
  local trl_check="from trl import GRPOConfig, GRPOTrainer
import trl; print('from trl import GRPOTrainer: ok, trl', trl.__version__)"
  (cd "$ROOT" && "$PY" -c "$naa_check") || return 1
  if _install_group trl && PYTHONPATH=$TARGET/trl:$PYTHONPATH "$PY" -c "$trl_check"; then
    export PYTHONPATH=$TARGET/trl:$PYTHONPATH
  else
    echo "trl does not import here: left off PYTHONPATH (rl_benchmark records it as unavailable)"
  fi
  echo "PYTHONPATH=$PYTHONPATH"
}
