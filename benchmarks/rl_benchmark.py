"""Guide-GRPO vs filtered GRPO vs vanilla GRPO: held-out pass@1/pass@8 and throughput, one prepared run.

Same model, tasks, steps and seed for every variant (DESIGN.md "Guide-GRPO"). Per variant it reports
held-out pass@k after training, seconds per step split into generation and training, tokens per second
and peak GPU memory; the start model is evaluated once as the common "before". A rollout section times
``generate`` (dynamic cache) against ``generate(cache_implementation="static")`` on one batch, after a
warm-up call, with the compile (first-call) time reported apart (``--rollout-prompts 0`` skips it, for runs
where benchmarks/rollout_benchmark.py times rollouts). TRL's GRPOTrainer then trains the same model with the
same LoRA, batch (prompts x completions), completion budget, learning rate and reward for ``--trl-steps``
steps, as the throughput baseline, before the naa runs; it is skipped, and the report says why, where
``trl`` does not import (benchmarks/gpu/ carries it to the lent GPU machine). ``--rollout-backend static``
gives the naa runs and the evaluations the static-cache sampler (naa/rl/static_rollout.py) instead of
``generate``; on a GPU it compiles once, in the first evaluation (its seconds include the compile).
``--warmup-steps N`` first fine-tunes the model on demonstrations of the train tasks (naa/rl/warmup.py),
for a start model that scores 0 even with hints, where no variant can learn.

GPU (sized for a few minutes; SmolLM2-135M-Instruct as a converted folder or its GGUF file):

    python benchmarks/rl_benchmark.py --device cuda --model /path/to/SmolLM2-135M-Instruct --steps 10

CPU smoke check (a tiny random-weight Llama with the real tokenizer; proves the script runs, says nothing
about learning):

    .venv/bin/python benchmarks/rl_benchmark.py --device cpu --tiny

Rerun with more ``--seeds`` or ``--steps`` to extend a result; every figure carries the device name.
Besides torch, transformers, accelerate and peft, importing ``naa`` needs pydantic, pyyaml, scikit-learn and
rich, and reading a GGUF needs the ``gguf`` wheel: bring any the GPU machine lacks.
"""

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import transformers  # noqa: E402
from accelerate.utils import set_seed  # noqa: E402

from naa.rl.config import RLConfig  # noqa: E402
from naa.rl.evaluation import EvalResult, evaluate_model  # noqa: E402
from naa.rl.groups import PromptEncoder  # noqa: E402
from naa.rl.policy import load_causal_lm, lora_config  # noqa: E402
from naa.rl.prompts import task_messages  # noqa: E402
from naa.rl.rewards import RewardScorer  # noqa: E402
from naa.rl.rollout import SamplingSettings  # noqa: E402
from naa.rl.task_generator import TaskSources, generate_tasks  # noqa: E402
from naa.rl.tasks import RLTask, save_tasks  # noqa: E402
from naa.rl.trainer import train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
VARIANTS = ("vanilla", "filtered", "guide")


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def prepare_model(args: argparse.Namespace, work: Path) -> str:
    """A model folder: a tiny random Llama (--tiny), a folder as given, a .gguf file converted once into the
    work dir, or a packaged model name (converted by the same code the generator uses)."""
    from naa.generation.model_files import convert_gguf, resolve_model_source

    if args.tiny:
        return tiny_model(work / "tiny-model")
    if not str(args.model).endswith(".gguf"):
        return resolve_model_source(str(args.model), work / "models")
    out = work / "model"
    if not (out / "config.json").is_file():
        convert_gguf(Path(args.model), out)
    return str(out)


def tiny_model(out: Path) -> str:
    """A 2-layer random-weight Llama with the real SmolLM2 tokenizer (chat template included)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from naa.generation.model_files import packaged_gguf

    if (out / "config.json").is_file():
        return str(out)
    gguf = packaged_gguf("SmolLM2-135M-Instruct")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, initializer_range=0.3,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def held_out(tasks: list[RLTask], limit: int) -> list[RLTask]:
    """The first ``limit`` held-out tasks taken round-robin over templates, so every template is in."""
    by_template: dict[str, list[RLTask]] = {}
    for task in tasks:
        if task.split == "heldout":
            by_template.setdefault(task.id.rsplit("-", 1)[0], []).append(task)
    rounds = max((len(group) for group in by_template.values()), default=0)
    mixed = [group[i] for i in range(rounds) for group in by_template.values() if i < len(group)]
    return mixed[:limit]


def evaluate(
    model_dir: str,
    tasks: list[RLTask],
    all_tasks: list[RLTask],
    args: argparse.Namespace,
    dtype: str,
    runs: dict[str, bool],
) -> dict[str, tuple[EvalResult, float]]:
    """Load ``model_dir`` once; evaluate it on ``tasks`` once per entry of ``runs`` (name: hint in the
    prompt), each from the same seed. Gives each run's result and seconds."""
    model, tokenizer = load_causal_lm(model_dir, dtype, args.device)
    batch, width = args.rollout_batch, 0
    if args.rollout_backend == "static":
        # The trainer's batch and the longest prompt of every task, hinted or not: the evaluations and the
        # training runs then share the static sampler's one compiled shape.
        batch = min(batch, args.batch_prompts * args.group_size)
        width = PromptEncoder(tokenizer, all_tasks).longest()
    settings = SamplingSettings(args.max_new_tokens, 1.0, 1.0, batch)
    out = {}
    for name, with_hint in runs.items():
        set_seed(args.seeds[0])
        start = time.perf_counter()
        result = evaluate_model(
            model, tokenizer, tasks, name=name, n=args.n, settings=settings, scorer=RewardScorer(),
            with_hint=with_hint, backend=args.rollout_backend, prompt_width=width,
        )  # fmt: skip
        out[name] = (result, time.perf_counter() - start)
    del model
    return out


def pass_ks(n: int) -> list[int]:
    """pass@1, pass@8 (the issue's) and pass@n: more samples than 8 make pass@1 and pass@8 less noisy."""
    return sorted({1, min(8, n), n})


def summarise_run(metrics: list[dict[str, Any]], skip_first: bool) -> dict[str, Any]:
    """Means over steps; the first step (CUDA start-up, allocator warm-up) is left out of timings."""
    timed = metrics[1:] if skip_first and len(metrics) > 1 else metrics

    def mean(key: str, rows: list[dict[str, Any]]) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(sum(values) / len(values), 4) if values else None

    return {
        "steps": len(metrics),
        "reward_mean_first": metrics[0]["reward_mean"],
        "reward_mean_last": metrics[-1]["reward_mean"],
        "hint_fraction": mean("hint_fraction", metrics),
        "filtered_fraction": mean("filtered_fraction", metrics),
        "steps_with_update": sum(r["loss"] is not None for r in metrics),
        "first_step_generation_s": metrics[0]["generation_s"],  # with a compiled sampler: its compile
        "step_s": mean("step_s", timed),
        "generation_s": mean("generation_s", timed),
        "training_s": mean("training_s", timed),
        "tokens_per_s": mean("tokens_per_s", timed),
        "generation_tokens_per_s": mean("generation_tokens_per_s", timed),
        "gpu_peak_gib": max((r.get("gpu_peak_gib", 0.0) for r in metrics), default=None) or None,
    }


def rollout_bench(
    model_dir: str, tasks: list[RLTask], args: argparse.Namespace, dtype: str
) -> dict[str, Any]:
    """``generate`` with a dynamic cache vs a static cache: warm-up call (reported) then a timed call."""
    model, tokenizer = load_causal_lm(model_dir, dtype, args.device)
    model.eval()
    encode = PromptEncoder(tokenizer, tasks)
    prompts = [encode(i % len(tasks), False) for i in range(args.rollout_prompts)]
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt)
        mask[row, width - len(prompt) :] = 1
    ids, mask = ids.to(args.device), mask.to(args.device)
    out: dict[str, Any] = {
        "prompts": len(prompts),
        "prompt_tokens_max": width,
        "new_tokens": args.max_new_tokens,
    }
    for name, extra in (("generate_dynamic", {}), ("generate_static", {"cache_implementation": "static"})):
        timings = []
        for _ in range(2):
            _sync(args.device)
            start = time.perf_counter()
            with torch.no_grad():
                model.generate(
                    input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                    max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id, **extra,
                )  # fmt: skip
            _sync(args.device)
            timings.append(time.perf_counter() - start)
        tokens = len(prompts) * args.max_new_tokens
        out[name] = {
            "first_call_s": round(timings[0], 3),
            "warm_s": round(timings[1], 3),
            "tokens_per_s": round(tokens / timings[1], 1),
        }
    del model
    return out


def trl_bench(
    model_dir: str, tasks: list[RLTask], args: argparse.Namespace, dtype: str, work: Path
) -> dict[str, Any]:
    """TRL's GRPOTrainer on the same model, LoRA, batch, completion budget, learning rate and reward: the
    throughput baseline. Generation is timed around its ``_generate`` (sampling only), the step by callbacks;
    the first step (CUDA start-up) is left out of the means on a GPU, as for the naa runs."""
    if args.trl_steps == 0:
        return {"available": importlib.util.find_spec("trl") is not None, "skipped": "--trl-steps 0"}
    try:
        from datasets import Dataset
        from transformers import TrainerCallback
        from trl import GRPOConfig, GRPOTrainer
    except ImportError as err:
        return {"available": False, "skipped": f"trl does not import here: {err}"}
    import trl

    timings: dict[str, list[float]] = {"step_s": [], "generation_s": [], "tokens": []}

    class StepTimer(TrainerCallback):  # type: ignore[misc]
        def on_step_begin(self, *_: Any, **__: Any) -> None:
            _sync(args.device)
            self.start = time.perf_counter()

        def on_step_end(self, *_: Any, **__: Any) -> None:
            _sync(args.device)
            timings["step_s"].append(time.perf_counter() - self.start)

    class TimedGRPOTrainer(GRPOTrainer):  # type: ignore[misc]
        def _generate(self, prompts: list[Any]) -> Any:
            _sync(args.device)
            start = time.perf_counter()
            out = super()._generate(prompts)
            _sync(args.device)
            timings["generation_s"].append(time.perf_counter() - start)
            return out

        def _generate_and_score_completions(self, inputs: Any) -> Any:
            out = super()._generate_and_score_completions(inputs)
            timings["tokens"].append(float(out["completion_mask"].sum().item()))
            return out

    scorer = RewardScorer()

    def naa_reward(completions: list[Any], task_index: list[int], **_: Any) -> list[float]:
        replies = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return scorer.score([tasks[i] for i in task_index], replies)

    lora = lora_config(RLConfig(model=model_dir, tasks=work / "tasks.jsonl"))  # as the naa runs
    micro = min(args.micro_batch, args.batch_prompts * args.group_size)
    config = GRPOConfig(
        output_dir=str(work / "trl"), max_steps=args.trl_steps, learning_rate=args.lr, seed=args.seeds[0],
        num_generations=args.group_size, per_device_train_batch_size=micro,
        gradient_accumulation_steps=args.batch_prompts * args.group_size // micro,
        max_completion_length=args.max_new_tokens, temperature=1.0, top_p=1.0, beta=0.0, epsilon=0.2,
        gradient_checkpointing=False, bf16=dtype == "bfloat16", use_cpu=args.device == "cpu",
        logging_steps=1, report_to="none", save_strategy="no", disable_tqdm=True,
    )  # fmt: skip
    dataset = Dataset.from_list(
        [{"prompt": task_messages(task, False), "task_index": i} for i, task in enumerate(tasks)]
    )
    set_seed(args.seeds[0])
    model, tokenizer = load_causal_lm(model_dir, dtype, args.device)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        trainer = TimedGRPOTrainer(
            model=model, reward_funcs=naa_reward, args=config, train_dataset=dataset,
            processing_class=tokenizer, peft_config=lora, callbacks=[StepTimer()],
        )  # fmt: skip
        trainer.train()
    except Exception as err:  # the baseline failing must not lose the naa runs already measured
        return {"available": True, "version": trl.__version__, "skipped": f"GRPOTrainer failed: {err!r}"}
    train_s = time.perf_counter() - start
    skip = 1 if args.device == "cuda" and len(timings["step_s"]) > 1 else 0
    steps = timings["step_s"][skip:]
    generation = timings["generation_s"][skip : skip + len(steps)]
    tokens = timings["tokens"][skip : skip + len(steps)]
    rewards = [row["reward"] for row in trainer.state.log_history if "reward" in row]
    peak = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" else None
    del trainer, model
    return {
        "available": True,
        "version": trl.__version__,
        "steps": len(timings["step_s"]),
        "train_s": round(train_s, 2),
        "reward_mean_first": rewards[0] if rewards else None,
        "reward_mean_last": rewards[-1] if rewards else None,
        "step_s": round(sum(steps) / len(steps), 4),
        "generation_s": round(sum(generation) / len(generation), 4),
        "training_s": round((sum(steps) - sum(generation)) / len(steps), 4),
        "tokens_per_s": round(sum(tokens) / sum(steps), 1),
        "generation_tokens_per_s": round(sum(tokens) / sum(generation), 1),
        "gpu_peak_gib": round(peak, 3) if peak is not None else None,
        "settings": "LoRA as naa, beta 0, epsilon 0.2, no gradient checkpointing, transformers generate",
    }


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="naa-rl-bench-"))
    dtype = "bfloat16" if args.device == "cuda" else "float32"
    started = time.perf_counter()
    model_dir = prepare_model(args, work)
    tasks = generate_tasks(TaskSources.demo(), per_template=args.per_template, seed=0)
    task_file = work / "tasks.jsonl"
    save_tasks(tasks, task_file)
    heldout = held_out(tasks, args.heldout_limit)
    warmup = None
    if args.warmup_steps:  # every variant then starts from the warmed model (naa/rl/warmup.py)
        from naa.rl.warmup import warm_up

        warmed = warm_up(
            model_dir, [t for t in tasks if t.split == "train"], work / "warmed", steps=args.warmup_steps,
            batch_size=args.warmup_batch, lr=args.warmup_lr, seed=args.seeds[0], device=args.device,
            progress=lambda step, loss: print(f"warm-up step {step}: loss {loss}", flush=True),
        )  # fmt: skip
        model_dir = str(warmed.model_path)
        warmup = {
            "steps": args.warmup_steps,
            "loss_first": warmed.losses[0],
            "loss_last": warmed.losses[-1],
            "seconds": warmed.seconds,
        }
    start_runs = evaluate(model_dir, heldout, tasks, args, dtype, {"start": False, "start, hinted": True})
    (before, before_s), (hinted, hinted_s) = start_runs["start"], start_runs["start, hinted"]
    report: dict[str, Any] = {
        "device": device_name(args.device),
        "label": "smoke run (tiny random-weight model): checks the script, not learning"
        if args.tiny
        else f"run on {device_name(args.device)}",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "dtype": dtype,
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "model": "tiny random Llama (SmolLM2 tokenizer)" if args.tiny else str(args.model),
        "tasks": {"train": sum(t.split == "train" for t in tasks), "heldout_evaluated": len(heldout)},
        "warmup": warmup,
        "before": {f"pass@{k}": round(before.pass_at(k), 4) for k in pass_ks(args.n)}
        | {"eval_s": round(before_s, 2)},
        # Guide-GRPO learns from hinted groups only where the start model sometimes succeeds with the hint.
        "before_hinted": {f"pass@{k}": round(hinted.pass_at(k), 4) for k in pass_ks(args.n)}
        | {"eval_s": round(hinted_s, 2)},
        "runs": [],
    }
    # The baseline first: a run cut by a time limit then loses a variant, not the comparison's other side.
    report["trl"] = trl_bench(model_dir, [t for t in tasks if t.split == "train"], args, dtype, work)
    save(report, args.out)
    print(json.dumps({"trl": report["trl"]}), flush=True)
    for seed in args.seeds:
        for variant in args.variants:
            config = RLConfig(
                model=model_dir, tasks=task_file, output_dir=work / f"{variant}-seed{seed}", variant=variant,
                steps=args.steps, group_size=args.group_size, batch_prompts=args.batch_prompts,
                max_new_tokens=args.max_new_tokens, lr=args.lr, seed=seed, dtype=dtype,
                micro_batch_size=args.micro_batch, rollout_batch_size=args.rollout_batch,
                rollout_backend=args.rollout_backend, checkpoint_every=args.steps,
                **({} if variant == "vanilla" else {"max_draw_rounds": args.max_draw_rounds}),
            )  # fmt: skip
            start = time.perf_counter()
            result = train(config, models_dir=work / "models")
            train_s = time.perf_counter() - start
            evaluated = evaluate(str(result.model_path), heldout, tasks, args, dtype, {variant: False})
            after, after_s = evaluated[variant]
            entry = {
                "variant": variant,
                "seed": seed,
                "train_s": round(train_s, 2),
                **summarise_run(result.metrics, skip_first=args.device == "cuda"),
                **{f"heldout_pass@{k}": round(after.pass_at(k), 4) for k in pass_ks(args.n)},
                "eval_s": round(after_s, 2),
            }
            report["runs"].append(entry)
            save(report, args.out)
            print(json.dumps(entry), flush=True)
    if args.rollout_prompts:
        report["rollout"] = rollout_bench(model_dir, heldout or tasks, args, dtype)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def save(report: dict[str, Any], out: Path) -> None:
    """Rewritten after every run, so a run stopped by a time limit keeps what it measured."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")


def print_table(report: dict[str, Any], k: int) -> None:
    """The runs with pass@1 and pass@k (k = 8, or n when fewer samples were drawn)."""
    print(f"\n{report['label']}\ndevice: {report['device']}")
    if report["warmup"]:
        w = report["warmup"]
        print(
            f"warm-up: {w['steps']} steps, loss {w['loss_first']:.3f} -> {w['loss_last']:.3f} "
            f"({w['seconds']} s)"
        )
    print(
        f"start model: pass@1 {report['before']['pass@1']:.3f}  pass@{k} {report['before'][f'pass@{k}']:.3f}"
        f"  (hint in the prompt: pass@1 {report['before_hinted']['pass@1']:.3f}"
        f"  pass@{k} {report['before_hinted'][f'pass@{k}']:.3f})"
    )
    header = f"{'variant':<9} {'seed':>4} {'pass@1':>7} {f'pass@{k}':>7} {'hints':>6} {'filtered':>8} "
    header += f"{'s/step':>7} {'gen s':>6} {'train s':>7} {'tok/s':>8} {'GiB':>5}"
    print(header)
    for r in report["runs"]:
        gib = f"{r['gpu_peak_gib']:.1f}" if r["gpu_peak_gib"] else "-"
        print(
            f"{r['variant']:<9} {r['seed']:>4} {r['heldout_pass@1']:>7.3f} {r[f'heldout_pass@{k}']:>7.3f} "
            f"{r['hint_fraction']:>6.2f} {r['filtered_fraction']:>8.2f} {r['step_s']:>7.2f} "
            f"{r['generation_s']:>6.2f} {r['training_s']:>7.2f} {r['tokens_per_s']:>8.1f} {gib:>5}"
        )
    trl = report["trl"]
    if "step_s" in trl:
        gib = f"{trl['gpu_peak_gib']:.1f}" if trl["gpu_peak_gib"] else "-"
        print(
            f"{'trl ' + trl['version']:<14} {'(GRPOTrainer, same batch)':<36} {trl['step_s']:>7.2f} "
            f"{trl['generation_s']:>6.2f} {trl['training_s']:>7.2f} {trl['tokens_per_s']:>8.1f} {gib:>5}"
        )
    else:
        print(f"trl: {trl['skipped']}")
    for name in ("generate_dynamic", "generate_static"):
        if name not in report.get("rollout", {}):
            continue
        row = report["rollout"][name]
        print(
            f"{name}: {row['tokens_per_s']:.0f} tok/s warm ({row['warm_s']} s; "
            f"first call {row['first_call_s']} s)"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument(
        "--tiny", action="store_true", help="tiny random-weight model and sizes (smoke check)"
    )
    parser.add_argument(
        "--model",
        default="SmolLM2-135M-Instruct",
        help="model folder, a .gguf file, or a packaged model name",
    )
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--batch-prompts", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--max-draw-rounds", type=int, default=2, help="re-draws to refill a filtered batch")
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument(
        "--warmup-steps", type=int, default=0, help="supervised warm-up steps before RL (0: none)"
    )
    parser.add_argument("--warmup-batch", type=int, default=8, help="demonstrations per warm-up step")
    parser.add_argument("--warmup-lr", type=float, default=2e-5)
    parser.add_argument("--micro-batch", type=int, default=32)
    parser.add_argument(
        "--rollout-backend",
        choices=("transformers", "static"),
        default="transformers",
        help="the naa runs' sampler and the evaluations' (static: compiled to CUDA graphs on a GPU); TRL "
        "uses generate",
    )
    parser.add_argument("--rollout-batch", type=int, default=256)
    parser.add_argument("--per-template", type=int, default=40)
    parser.add_argument("--heldout-limit", type=int, default=64)
    parser.add_argument(
        "--n", type=int, default=8, help="samples per held-out task (pass@1, pass@8 and pass@n)"
    )
    parser.add_argument(
        "--rollout-prompts", type=int, default=512, help="generate timing batch; 0 skips that section"
    )
    parser.add_argument("--trl-steps", type=int, default=5, help="TRL GRPOTrainer baseline steps; 0 skips it")
    parser.add_argument("--work-dir", default=None, help="keeps runs and the converted model between reruns")
    parser.add_argument("--out", type=Path, default=None, help="JSON path; default under benchmarks/results/")
    args = parser.parse_args(argv)
    if args.tiny:
        args.steps, args.group_size, args.batch_prompts, args.max_new_tokens = min(args.steps, 2), 2, 2, 8
        args.per_template, args.heldout_limit, args.n, args.rollout_prompts = 2, 4, 2, 4
        args.micro_batch, args.rollout_batch, args.trl_steps = 4, 8, min(args.trl_steps, 2)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: use --device cpu --tiny for a smoke check")
    args.out = args.out or RESULTS / f"rl_benchmark_{'cpu_tiny' if args.tiny else args.device}.json"
    report = run(args)
    print_table(report, min(8, args.n))
    save(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
