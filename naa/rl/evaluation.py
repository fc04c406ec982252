"""pass@k before and after training, split into compression and capability gain (DESIGN.md "Guide-GRPO").

Each held-out task gets n >= k sampled replies without the hint; c of them are correct (reward reaching the
success threshold). pass@k uses the unbiased estimator of Chen et al. (arXiv 2107.03374, eq. 1).

Per task, "solved at pass@k" means its estimated pass@k is at least 0.5. Then, over all tasks:
- compression: solved at pass@k but not at pass@1 before, solved at pass@1 after (a skill the model had
  only in some samples became its usual answer);
- capability gain: not solved at pass@k before, solved at pass@k after (a skill it did not have);
- lost: solved at pass@k before, not after.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from accelerate.utils import set_seed

from naa.config.plugins import PluginRegistry
from naa.errors import ConfigError, NotFoundError
from naa.generation.model_files import resolve_model_source
from naa.rl.advantages import as_rewards, correct_counts
from naa.rl.config import RLConfig
from naa.rl.groups import PromptEncoder
from naa.rl.model_version import ModelVersionManifest, read_manifest, write_manifest
from naa.rl.policy import load_causal_lm
from naa.rl.rewards import RewardScorer
from naa.rl.rollout import Sampler, SamplingSettings, TransformersSampler
from naa.rl.run_state import MetricsLog, write_json
from naa.rl.static_rollout import StaticCacheSampler
from naa.rl.tasks import RLTask, Split, load_tasks
from naa.rl.trainer import CONFIG_NAME

SOLVED = 0.5


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k = 1 - C(n - c, k) / C(n, k): the chance that k of the n samples hold a correct one.

    Computed as 1 - prod_{i=n-c+1}^{n} (1 - k / i), which avoids huge binomials (arXiv 2107.03374, fig. 3).
    """
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 < k <= n and 0 <= c <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    type: str
    n: int
    correct: int
    reward_mean: float

    def pass_at(self, k: int) -> float:
        return pass_at_k(self.n, self.correct, k)


@dataclass(frozen=True)
class EvalResult:
    model: str
    tasks: list[TaskResult]

    def pass_at(self, k: int) -> float:
        """Mean pass@k over tasks."""
        return sum(t.pass_at(k) for t in self.tasks) / len(self.tasks)

    @property
    def reward_mean(self) -> float:
        return sum(t.reward_mean for t in self.tasks) / len(self.tasks)

    def to_json(self, ks: Sequence[int]) -> dict[str, Any]:
        return {
            "model": self.model,
            "reward_mean": round(self.reward_mean, 6),
            "pass_at": {str(k): round(self.pass_at(k), 6) for k in ks},
            "tasks": [asdict(t) for t in self.tasks],
        }


def evaluate_model(
    model: torch.nn.Module,
    tokenizer: Any,
    tasks: Sequence[RLTask],
    *,
    name: str,
    n: int,
    settings: SamplingSettings,
    scorer: RewardScorer,
    success_threshold: float = 1.0,
    with_hint: bool = False,
    backend: Literal["transformers", "static"] = "transformers",
    compile_rollout: bool | None = None,
    prompt_width: int = 0,
) -> EvalResult:
    """Sample ``n`` replies per task with ``model`` and count the correct ones.

    Args:
        with_hint: put each task's hint in the prompt. Not a score of the policy (it is judged without
            hints) but a check that Guide-GRPO can learn here: a model that fails with the hint too gets
            no reward from hinted groups either.
        backend, compile_rollout: the sampler, as the run's ``rollout_backend`` and ``compile_rollout``.
        prompt_width: the static sampler's narrowest layout (``StaticCacheSampler``): a caller evaluating
            several prompt sets in one process passes the longest prompt of all, for one compiled shape.
    """
    encode = PromptEncoder(tokenizer, tasks)
    prompts = [encode(i, with_hint) for i in range(len(tasks))]
    sampler: Sampler = (
        StaticCacheSampler(
            model,
            tokenizer,
            settings,
            compile=compile_rollout,
            prompt_width=max(prompt_width, *map(len, prompts)),
        )
        if backend == "static"
        else TransformersSampler(model, tokenizer, settings)
    )
    groups = sampler.sample(prompts, n)
    flat = scorer.score([t for t in tasks for _ in range(n)], [s.text for g in groups for s in g])
    rewards = as_rewards([flat[i * n : (i + 1) * n] for i in range(len(tasks))])  # (N, n)
    correct = correct_counts(rewards, success_threshold).tolist()
    return EvalResult(
        model=name,
        tasks=[
            TaskResult(t.id, t.type, n, int(c), round(float(r), 6))
            for t, c, r in zip(tasks, correct, rewards.mean(dim=1).tolist(), strict=True)
        ],
    )


def compare(before: EvalResult, after: EvalResult, k: int) -> dict[str, float | int]:
    """Compression, capability gain and loss between two evaluations of the same tasks (module docstring)."""
    if [t.task_id for t in before.tasks] != [t.task_id for t in after.tasks]:
        raise ValueError("before and after must evaluate the same tasks in the same order")
    compressed = gained = lost = 0
    for b, a in zip(before.tasks, after.tasks, strict=True):
        b_k, b_1, a_k, a_1 = (
            b.pass_at(k) >= SOLVED,
            b.pass_at(1) >= SOLVED,
            a.pass_at(k) >= SOLVED,
            a.pass_at(1) >= SOLVED,
        )
        compressed += b_k and not b_1 and a_1
        gained += not b_k and a_k
        lost += b_k and not a_k
    total = len(before.tasks)
    return {
        "k": k,
        "tasks": total,
        "compression": round(compressed / total, 6),
        "capability_gain": round(gained / total, 6),
        "lost": round(lost / total, 6),
        "compressed_tasks": compressed,
        "gained_tasks": gained,
        "lost_tasks": lost,
    }


def format_table(before: EvalResult, after: EvalResult | None, ks: Sequence[int]) -> str:
    """A plain-text table: one row per metric, before / after / change."""
    rows = [("metric", "before", "after", "change")]
    labels = ["reward mean", *(f"pass@{k}" for k in ks)]
    values_before = [before.reward_mean, *(before.pass_at(k) for k in ks)]
    values_after = [after.reward_mean, *(after.pass_at(k) for k in ks)] if after is not None else None
    for i, label in enumerate(labels):
        b = values_before[i]
        if values_after is None:
            rows.append((label, f"{b:.3f}", "-", "-"))
        else:
            rows.append((label, f"{b:.3f}", f"{values_after[i]:.3f}", f"{values_after[i] - b:+.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def plot_curves(
    path: Path, metrics: Sequence[dict[str, Any]], results: Sequence[EvalResult], n: int, split: Split
) -> Path:
    """PNG with the training reward per step (left) and pass@k against k for each evaluation (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    steps = [m["step"] for m in metrics if m.get("reward_mean") is not None]
    left.plot(
        steps, [m["reward_mean"] for m in metrics if m.get("reward_mean") is not None], label="unhinted"
    )
    hinted = [
        (m["step"], m["hinted_reward_mean"]) for m in metrics if m.get("hinted_reward_mean") is not None
    ]
    if hinted:
        left.plot(*zip(*hinted, strict=True), label="hinted")
    left.set(xlabel="step", ylabel="mean reward", title="Training reward")
    left.legend()
    ks = list(range(1, n + 1))
    for result in results:
        right.plot(ks, [result.pass_at(k) for k in ks], marker="o", label=result.model)
    right.set(xlabel="k", ylabel="pass@k", title=f"pass@k on the {split} tasks", ylim=(0, 1))
    right.xaxis.set_major_locator(MaxNLocator(integer=True))  # k is a count
    right.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@dataclass(frozen=True)
class EvalPlan:
    """What an evaluation of a finished run will score, checked before any model loads."""

    config: RLConfig
    manifest: ModelVersionManifest
    tasks: list[RLTask]


def plan_evaluation(
    run_dir: Path,
    *,
    n: int,
    ks: Sequence[int],
    tasks_path: Path | None = None,
    split: Split = "heldout",
    limit: int | None = None,
) -> EvalPlan:
    """Check an evaluation request against the run; the API calls it before queueing the job.

    Raises:
        ConfigError: the run has no config or manifest, ``ks`` exceed ``n``, or the split is empty.
    """
    if not ks or max(ks) > n or min(ks) < 1:
        raise ConfigError(
            f"every k must be between 1 and n={n} (unbiased pass@k needs n >= k), got {list(ks)}"
        )
    if not run_dir.is_dir():
        raise NotFoundError(f"run folder {run_dir} does not exist: give the output_dir of a `naa rl train`")
    config_path = run_dir / CONFIG_NAME
    try:
        config = RLConfig.model_validate_json(config_path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{run_dir} has no {CONFIG_NAME}: is it a `naa rl train` output_dir?") from err
    manifest = read_manifest(run_dir)
    return EvalPlan(config, manifest, _sample(load_tasks(tasks_path or config.tasks, split=split), limit))


def _sample(tasks: list[RLTask], limit: int | None) -> list[RLTask]:
    """The first ``limit`` tasks, taken from each task type in turn: task files are written type by type,
    so the first N alone could all be of one type."""
    if limit is None:
        return tasks
    by_type: dict[str, list[RLTask]] = {}
    for task in tasks:
        by_type.setdefault(task.type, []).append(task)
    in_turn = [task for row in itertools.zip_longest(*by_type.values()) for task in row if task is not None]
    return in_turn[:limit]


def evaluate_run(
    run_dir: Path,
    *,
    n: int = 8,
    ks: Sequence[int] = (1, 8),
    tasks_path: Path | None = None,
    split: Split = "heldout",
    limit: int | None = None,
    models_dir: Path | None = None,
    plugins: PluginRegistry | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate a finished run's start model (its warmed model, with a warm-up) and trained model; write
    ``eval.json`` and ``eval.png``.

    The run's ``config.json`` gives the tasks file, sampling settings, seed and success threshold;
    ``model_version.json`` gives the trained model, and gets the after-training pass@k in its metrics
    (``heldout_pass@k``, or ``train_pass@k``). ``progress`` hears of each model before it is sampled.

    Raises:
        ConfigError: as ``plan_evaluation``.
    """
    plan = plan_evaluation(run_dir, n=n, ks=ks, tasks_path=tasks_path, split=split, limit=limit)
    config, manifest, tasks = plan.config, plan.manifest, plan.tasks
    settings = SamplingSettings(
        config.max_new_tokens, config.temperature, config.top_p, config.rollout_batch_size
    )
    scorer = RewardScorer(plugins, default=config.reward)
    scorer.check(tasks)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = []
    warmed = config.warmed_model_dir  # with a warm-up, RL started from the warmed model
    start_source = (
        str(warmed) if warmed else resolve_model_source(config.model, models_dir or run_dir / "models")
    )
    sources = [
        ("before", start_source),
        ("after", str(manifest.path)),
    ]
    for done, (name, source) in enumerate(sources):
        if progress is not None:
            progress(done / len(sources), f"sampling {n} replies to each of {len(tasks)} tasks, {name} model")
        set_seed(config.seed)
        model, tokenizer = load_causal_lm(source, config.dtype, device)
        results.append(
            evaluate_model(
                model,
                tokenizer,
                tasks,
                name=name,
                n=n,
                settings=settings,
                scorer=scorer,
                success_threshold=config.success_threshold,
                # vLLM would start a second engine beside the loaded model: evaluation uses generate
                backend="static" if config.rollout_backend == "static" else "transformers",
                compile_rollout=config.compile_rollout,
            )
        )
        del model
    before, after = results
    report = {
        "run": str(run_dir.resolve()),
        "split": split,
        "n": n,
        "ks": list(ks),
        "before": {**before.to_json(ks), "model_path": start_source},
        "after": {**after.to_json(ks), "model_path": str(manifest.path)},
        "comparison": compare(before, after, max(ks)),
        "table": format_table(before, after, ks),
    }
    write_json(run_dir / "eval.json", report)
    plot_curves(run_dir / "eval.png", MetricsLog(run_dir / "metrics.jsonl").read(), results, n, split)
    manifest.metrics.update({f"{split}_pass@{k}": round(after.pass_at(k), 6) for k in ks})
    write_manifest(run_dir, manifest)
    return report
