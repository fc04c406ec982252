#!/usr/bin/env bash
# Call 2 on the GPU machine (after stage.sh, same warm machine): joins the GGUF, checks its sha256, installs
# the wheels if stage.sh has not, then runs the RL benchmark and the rollout benchmark, each under `timeout`,
# writing logs and results to $OUT. About 8-9 minutes in all; give the call timeout_s 580.
#
#   run: command "bash benchmarks/gpu/run.sh",
#        carry [".gpu-carry/smollm2.gguf.part2", ".gpu-carry/smollm2.gguf.sha256"], timeout_s 580
#
# The RL benchmark goes first; both rewrite their JSON after every variant or path, so a run stopped by its
# timeout keeps what it measured.
# Environment (defaults for the GPU): NAA_GPU_BUDGET_S (540: the whole script, kept under the call's
# timeout_s), NAA_GPU_RL_TIMEOUT_S (500, each RL run), NAA_GPU_RL_ARGS, NAA_GPU_ROLLOUT_ARGS, NAA_GPU_SKIP_RL=1,
# NAA_GPU_SKIP_ROLLOUT=1; NAA_GPU_DEVICE=cpu picks tiny sizes for the dry run (README.md).
set -uo pipefail
# shellcheck source=benchmarks/gpu/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
: "${OUT:?OUT must name the folder whose files come back}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
tee_pid=$!
trap 'exec >&- 2>&-; wait "$tee_pid"' EXIT # run.log complete before the files go back

if [[ $DEVICE == cpu ]]; then
  # A dry run of the mechanics: the real GGUF through the RL script at toy sizes, the tiny rollout model.
  RL_ARGS=${NAA_GPU_RL_ARGS:---steps 1 --variants vanilla --group-size 2 --batch-prompts 2 --max-new-tokens 8
    --per-template 2 --heldout-limit 2 --n 2 --rollout-prompts 2 --micro-batch 4 --rollout-batch 8 --trl-steps 2
    --rollout-backend static}
  FALLBACK_RL_ARGS="--steps 1 --variants vanilla --group-size 2 --batch-prompts 2 --max-new-tokens 8
    --per-template 2 --heldout-limit 2 --n 2 --rollout-prompts 0 --micro-batch 4 --rollout-batch 8 --trl-steps 0"
  ROLLOUT_ARGS=${NAA_GPU_ROLLOUT_ARGS:---tiny --check --profile}
  SAMPLING_ARGS="--rows 8 --top-p 0.9 --calls 2"
  RL_TIMEOUT_S=${NAA_GPU_RL_TIMEOUT_S:-1200}
  BUDGET_S=${NAA_GPU_BUDGET_S:-2400}
else
  # On 2026-11-28 (H200) generate took 19.6 s of a 21.3 s Guide-GRPO step, so the RL limit reached only
  # guide, at 6 steps; TRL's GRPOTrainer, the static sampler at top-p 0.9 and generate's dynamic-cache row
  # were measured then (benchmarks/results/*_nvidia_h200*.json). The static sampler now lays out every
  # batch of a process in one shape, so it compiles once (about a minute) and then decodes a step in a few
  # ms: the RL run samples with it, 20 steps per variant, guide, vanilla and filtered from the same warm-up
  # (estimated 130 s before the first variant, compile included, then 60-90 s per variant), each
  # evaluation at 16 samples a task for less noisy pass@1 and pass@8. If that run fails, the same
  # comparison reruns on generate at 6 steps and 8 samples in the time left.
  RL_ARGS=${NAA_GPU_RL_ARGS:---warmup-steps 60 --warmup-batch 4 --warmup-lr 5e-5 --steps 20 --lr 1e-4
    --variants guide vanilla filtered --n 16 --trl-steps 0 --rollout-prompts 0 --rollout-backend static}
  FALLBACK_RL_ARGS="--warmup-steps 60 --warmup-batch 4 --warmup-lr 5e-5 --steps 6 --lr 1e-4
    --variants guide vanilla filtered --trl-steps 0 --rollout-prompts 0 --rollout-backend transformers"
  ROLLOUT_ARGS=${NAA_GPU_ROLLOUT_ARGS:---top-p 0.9 --paths static generate_dynamic}
  SAMPLING_ARGS="--rows 512 --top-p 0.9"
  RL_TIMEOUT_S=${NAA_GPU_RL_TIMEOUT_S:-500}
  BUDGET_S=${NAA_GPU_BUDGET_S:-540}
fi

print_environment
gguf=$STAGE/smollm2.gguf
[[ -f $CARRY/smollm2.gguf.sha256 ]] || {
  echo "no $CARRY/smollm2.gguf.sha256: carry it with part 2" >&2
  exit 1
}
if ! (cd "$STAGE" && grep -s ' smollm2.gguf$' "$CARRY/smollm2.gguf.sha256" | sha256sum --quiet -c - >/dev/null 2>&1); then
  [[ -f $STAGE/smollm2.gguf.part1 ]] || {
    echo "no $STAGE/smollm2.gguf.part1: this machine is not the one stage.sh ran on; run stage.sh again" >&2
    exit 1
  }
  cat "$STAGE/smollm2.gguf.part1" "$CARRY/smollm2.gguf.part2" >"$gguf"
  (cd "$STAGE" && grep ' smollm2.gguf$' "$CARRY/smollm2.gguf.sha256" | sha256sum -c -) || {
    echo "joined GGUF does not match its sha256: rerun prepare.sh here and stage.sh there" >&2
    exit 1
  }
fi
echo "GGUF: $gguf ($(stat -c %s "$gguf") bytes, sha256 ok)"
install_wheels || exit 1

slug=cpu_dryrun # file names as rollout_benchmark.py gives them: rollout_nvidia_h200.json
if [[ $DEVICE == cuda ]]; then
  slug=$("$PY" -c "import re, torch; print(re.sub(r'[^a-z0-9]+', '_', torch.cuda.get_device_name(0).lower()).strip('_'))")
fi
remaining() { echo $((BUDGET_S - SECONDS)); }
status=()

rl_benchmark() { # log name, JSON name, flags
  local log=$1 json=$2
  shift 2
  local limit=$(($(remaining) < RL_TIMEOUT_S ? $(remaining) : RL_TIMEOUT_S))
  echo "== $(date -u +%T) rl_benchmark (timeout ${limit}s): $*"
  (cd "$ROOT" && timeout -k 10 "$limit" "$PY" benchmarks/rl_benchmark.py --device "$DEVICE" --model "$gguf" \
    "$@" --out "$OUT/$json" >"$OUT/$log" 2>&1)
}
# Word splitting of the *_ARGS strings is wanted: they are flag lists.
# shellcheck disable=SC2086
if [[ ${NAA_GPU_SKIP_RL:-0} != 1 ]]; then
  rl_benchmark rl.log "rl_benchmark_$slug.json" $RL_ARGS
  rc=$?
  status+=("rl_benchmark exit $rc after ${SECONDS}s")
  # A failure, not the timeout (124, 137): rerun on generate, which the H200 has run, if time is left.
  if ((rc != 0 && rc != 124 && rc != 137)) && (($(remaining) > 200)); then
    rl_benchmark rl_fallback.log "rl_benchmark_${slug}_fallback.json" $FALLBACK_RL_ARGS
    status+=("rl_benchmark fallback exit $? after ${SECONDS}s")
  fi
fi
# The draw alone, sort against search (seconds): the cost of the nucleus apart from the model.
# shellcheck disable=SC2086
if [[ ${NAA_GPU_SKIP_ROLLOUT:-0} != 1 ]] && (($(remaining) > 150)); then
  echo "== $(date -u +%T) sampling_benchmark"
  (cd "$ROOT" && timeout -k 5 60 "$PY" benchmarks/sampling_benchmark.py --device "$DEVICE" $SAMPLING_ARGS \
    --out "$OUT/sampling_$slug.json" >"$OUT/sampling.log" 2>&1)
  status+=("sampling_benchmark exit $? after ${SECONDS}s")
fi
# shellcheck disable=SC2086
if [[ ${NAA_GPU_SKIP_ROLLOUT:-0} != 1 ]]; then
  limit=$(($(remaining) - 10))
  if ((limit < 30)); then
    status+=("rollout_benchmark skipped: ${limit}s left")
  else
    echo "== $(date -u +%T) rollout_benchmark (timeout ${limit}s): $ROLLOUT_ARGS"
    (cd "$ROOT" && timeout -k 10 "$limit" "$PY" benchmarks/rollout_benchmark.py --device "$DEVICE" \
      $ROLLOUT_ARGS --out "$OUT/rollout_$slug.json" >"$OUT/rollout.log" 2>&1)
    status+=("rollout_benchmark exit $? after ${SECONDS}s")
  fi
fi

# The reply shows the last 12,000 characters: the tables last, without the progress-bar lines.
for log in rl rl_fallback sampling rollout; do
  [[ -f $OUT/$log.log ]] && echo "== tail of $log.log" && grep -v 'it/s]' "$OUT/$log.log" | tail -n 25
done
echo "== files in \$OUT (exit 124 = stopped by timeout)"
ls -l "$OUT"
printf '%s\n' "${status[@]}"
