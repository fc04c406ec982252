"""The one RL trainer: Guide-GRPO, filtered GRPO and vanilla GRPO, chosen by ``RLConfig.variant``.

The loop of DESIGN.md "Guide-GRPO" per step: collect groups (``groups.py``: sample, score, hint, filter),
advantages (``advantages.py``), log-probs of the sampling context (``logprobs.py``), the loss
(``losses.py``), one or more optimisation passes, then metrics and checkpoints (``run_state.py``).
This module orchestrates; every formula lives in losses.py and advantages.py.

    result = train(RLConfig.from_yaml(Path("rl.yaml")), progress=print)
"""

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch import Tensor

from naa.config.plugins import PluginRegistry
from naa.errors import TrainingError
from naa.generation.model_files import resolve_model_source
from naa.rl.advantages import as_rewards, group_advantages
from naa.rl.config import RLConfig
from naa.rl.groups import Collected, GroupCollector, PromptEncoder
from naa.rl.logprobs import completion_logprobs, pad_completions
from naa.rl.losses import (
    AGGREGATIONS,
    BatchSize,
    guide_token_loss,
    importance_ratios,
    k3_kl,
    masked_summary,
    regularised_token_loss,
    shaping_gamma,
)
from naa.rl.model_version import ModelVersionManifest, write_manifest
from naa.rl.policy import load_causal_lm, with_lora
from naa.rl.rewards import RewardScorer
from naa.rl.rollout import Sampler, SamplingSettings, TransformersSampler, VLLMSampler
from naa.rl.run_state import (
    DataOrder,
    MetricsLog,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
    write_json,
)
from naa.rl.static_rollout import StaticCacheSampler
from naa.rl.tasks import load_tasks

CONFIG_NAME = "config.json"  # the run's RLConfig, for resuming by hand and for `naa rl eval`
ProgressFn = Callable[[dict[str, Any]], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    step: int  # last step done
    stopped: bool  # True when should_stop ended the run early (resume it later)
    model_path: Path | None  # the trained model, when the run finished
    metrics: list[dict[str, Any]]


@dataclass(frozen=True)
class TrainBatch:
    """The kept groups flattened to B completions."""

    plain_prompts: list[tuple[int, ...]]
    sampling_prompts: list[tuple[int, ...]]
    completions: list[tuple[int, ...]]
    advantages: Tensor  # (B,)
    guided: Tensor  # (B,) bool
    mask: Tensor  # (B, T)


def _flatten(collected: Collected, eps: float, device: torch.device) -> TrainBatch:
    groups = collected.groups
    advantages = group_advantages(as_rewards([g.rewards for g in groups]), eps)  # (N, G)
    completions = [s.completion_ids for g in groups for s in g.samples]
    _, mask = pad_completions(completions, device)
    return TrainBatch(
        plain_prompts=[g.plain_prompt for g in groups for _ in g.samples],
        sampling_prompts=[g.sampling_prompt for g in groups for _ in g.samples],
        completions=completions,
        advantages=advantages.flatten().to(device),
        guided=torch.tensor([g.hinted for g in groups for _ in g.samples], device=device),
        mask=mask,
    )


class _Run:
    def __init__(self, config: RLConfig, models_dir: Path, plugins: PluginRegistry | None) -> None:
        self.config = config
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        set_seed(config.seed)
        self.tasks = load_tasks(config.tasks, split="train")
        self.source = resolve_model_source(config.model, models_dir)
        model, self.tokenizer = load_causal_lm(self.source, config.dtype)
        if config.finetune == "lora":
            model = with_lora(model, config)
        # The start model is the KL reference: LoRA turns its adapters off, full fine-tuning keeps a copy.
        self.reference = (
            None if config.finetune == "lora" else copy.deepcopy(model).eval().requires_grad_(False)
        )
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.order = DataOrder(
            len(self.tasks), config.seed, self.accelerator.process_index, self.accelerator.num_processes
        )
        self.metrics = MetricsLog(config.output_dir / "metrics.jsonl")
        self.sampler = self._sampler()
        self.collector = GroupCollector(
            tasks=self.tasks,
            encode=PromptEncoder(self.tokenizer, self.tasks),
            sampler=self.sampler,
            scorer=RewardScorer(plugins, default=config.reward),
            rule=config.group_rule,
            group_size=config.group_size,
            batch_prompts=config.batch_prompts,
            max_rounds=config.max_draw_rounds,
            success_threshold=config.success_threshold,
        )

    def _sampler(self) -> Sampler:
        c = self.config
        settings = SamplingSettings(c.max_new_tokens, c.temperature, c.top_p, c.rollout_batch_size)
        model = self.accelerator.unwrap_model(self.model)
        if c.rollout_backend == "vllm":
            return VLLMSampler(self.source, self.tokenizer, settings, c.seed)
        if c.rollout_backend == "static":
            on_gpu = self.accelerator.device.type == "cuda"
            compile_step = on_gpu if c.compile_rollout is None else c.compile_rollout
            return StaticCacheSampler(model, self.tokenizer, settings, compile=compile_step)
        return TransformersSampler(model, self.tokenizer, settings)

    # --- scoring -------------------------------------------------------------------------------------------

    def _micro_batches(self, size: int) -> list[slice]:
        step = self.config.micro_batch_size
        return [slice(i, min(i + step, size)) for i in range(0, size, step)]

    @torch.no_grad()
    def _score(self, prompts: list[tuple[int, ...]], batch: TrainBatch, reference: bool = False) -> Tensor:
        """Log-probs ``(B, T)`` of the batch's completions after ``prompts``, without gradient.

        ``reference`` scores with the start model: the frozen copy, or the policy with its adapters off.
        """
        model = self.accelerator.unwrap_model(self.model)
        scorer = self.reference if reference and self.reference is not None else model
        adapters_off = reference and self.reference is None
        out = torch.zeros_like(batch.mask)
        with model.disable_adapter() if adapters_off else contextlib.nullcontext():
            for rows in self._micro_batches(len(prompts)):
                scored = completion_logprobs(
                    scorer, prompts[rows], batch.completions[rows], self.config.temperature
                )
                out[rows, : scored.logprobs.shape[1]] = scored.logprobs
        return out

    def _gamma(self, start_ratios: Tensor, batch: TrainBatch) -> Tensor:
        """Shaping gamma over the guided ratios of the whole batch, gathered from every process."""
        ratios, mask, guided = start_ratios, batch.mask, batch.guided
        if self.accelerator.num_processes > 1:
            ratios = self.accelerator.gather(self.accelerator.pad_across_processes(ratios, dim=1))
            mask = self.accelerator.gather(self.accelerator.pad_across_processes(mask, dim=1))
            guided = self.accelerator.gather(guided)
        c = self.config
        return shaping_gamma(ratios, mask, guided, c.gamma_mode, c.gamma_value, c.gamma_quantile)

    # --- one step ------------------------------------------------------------------------------------------

    def _optimise(self, batch: TrainBatch) -> dict[str, Any]:
        c = self.config
        plain = self._score(batch.plain_prompts, batch)  # (B, T) log pi_old(o | q)
        hinted = self._score(batch.sampling_prompts, batch) if batch.guided.any() else plain
        sampling = torch.where(batch.guided.unsqueeze(1), hinted, plain)  # (B, T) denominator
        reference = self._score(batch.plain_prompts, batch, reference=True)  # (B, T) start model
        gamma = self._gamma(importance_ratios(plain, sampling), batch)
        size = BatchSize.of(batch.mask, c.max_new_tokens)
        aggregate = AGGREGATIONS[c.aggregation]
        seen: dict[str, list[Tensor]] = {"ratio": [], "guided_ratio": [], "kl": [], "entropy": []}
        loss_total = 0.0
        for _ in range(c.ppo_epochs):
            for rows in self._micro_batches(len(batch.completions)):
                scored = completion_logprobs(
                    self.model,
                    batch.plain_prompts[rows],
                    batch.completions[rows],
                    c.temperature,
                    c.entropy_coef > 0,
                )
                width = scored.logprobs.shape[1]
                ratios = importance_ratios(scored.logprobs, sampling[rows, :width])  # (b, t)
                policy_loss = guide_token_loss(
                    ratios, batch.advantages[rows], batch.guided[rows], c.epsilon, gamma
                )
                kl = k3_kl(scored.logprobs, reference[rows, :width])  # (b, t)
                token_loss = regularised_token_loss(
                    policy_loss, kl, c.kl_coef, scored.entropy, c.entropy_coef
                )
                loss = aggregate(token_loss, scored.mask, size) / c.ppo_epochs
                self.accelerator.backward(loss)
                loss_total += loss.item()
                guided = batch.guided[rows].unsqueeze(1)
                seen["ratio"].append(ratios.detach()[scored.mask.bool() & ~guided])
                seen["guided_ratio"].append(ratios.detach()[scored.mask.bool() & guided])
                seen["kl"].append(kl.detach()[scored.mask.bool()])
                if scored.entropy is not None:
                    seen["entropy"].append(scored.entropy.detach()[scored.mask.bool()])
            self.accelerator.clip_grad_norm_(self.model.parameters(), c.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad()
        return {"loss": loss_total, "gamma": gamma.item(), **_summaries(seen)}

    def step(self, step: int) -> dict[str, Any]:
        start = time.perf_counter()
        collected = self.collector.collect(self.order.draw)
        train_start = time.perf_counter()
        losses: dict[str, Any] = {"loss": None}
        if collected.groups:
            batch = _flatten(collected, self.config.advantage_eps, self.accelerator.device)
            losses = self._optimise(batch)
            self.sampler.sync_weights(self.accelerator.unwrap_model(self.model))
        elapsed = time.perf_counter() - start
        return {
            "step": step,
            **_collection_metrics(collected, self.config.batch_prompts),
            **losses,
            "generation_s": round(collected.seconds, 4),
            "training_s": round(time.perf_counter() - train_start, 4),
            "step_s": round(elapsed, 4),
            "tokens_per_s": round(collected.generated_tokens / elapsed, 2),
            "generation_tokens_per_s": round(collected.generated_tokens / max(collected.seconds, 1e-9), 2),
            **_memory(),
        }

    # --- the loop ------------------------------------------------------------------------------------------

    def resume(self) -> int:
        checkpoints = list_checkpoints(self.config.output_dir)
        if not checkpoints:
            if self.accelerator.is_main_process:
                self.metrics.truncate_after(0)
            return 0
        checkpoint = load_checkpoint(
            checkpoints[-1], self.accelerator.unwrap_model(self.model), self.optimizer
        )
        self.order.load_state_dict(checkpoint.state["data_order"])
        if self.accelerator.is_main_process:
            self.metrics.truncate_after(checkpoint.step)
        self.sampler.sync_weights(self.accelerator.unwrap_model(self.model))
        return checkpoint.step

    def checkpoint(self, step: int) -> None:
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            state = {"data_order": self.order.state_dict(), "variant": self.config.variant}
            save_checkpoint(
                self.config.output_dir, step, model, self.optimizer, state, self.config.keep_checkpoints
            )
        self.accelerator.wait_for_everyone()

    def finish(self, step: int) -> Path:
        """Save the trained model (adapters merged) and the model-version manifest."""
        target = self.config.output_dir / "final"
        model = self.accelerator.unwrap_model(self.model)
        if self.accelerator.is_main_process:
            merged = model.merge_and_unload() if self.config.finetune == "lora" else model
            merged.save_pretrained(target)
            self.tokenizer.save_pretrained(target)
            last = self.metrics.read()[-1] if self.metrics.read() else {}
            manifest = ModelVersionManifest(
                name=self.config.run_name,
                path=target.resolve(),
                base_model=self.config.model,
                variant=self.config.variant,
                steps=step,
                metrics={k: v for k, v in last.items() if isinstance(v, int | float)},
            )
            write_manifest(self.config.output_dir, manifest)
        self.accelerator.wait_for_everyone()
        return target


def _summaries(seen: dict[str, list[Tensor]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, parts in seen.items():
        values = torch.cat(parts) if parts else torch.empty(0)
        mean, low, high = masked_summary(values, torch.ones_like(values))
        if name in ("ratio", "guided_ratio"):
            out.update({f"{name}_mean": _num(mean), f"{name}_min": _num(low), f"{name}_max": _num(high)})
        else:
            out[name] = _num(mean)
    return out


def _num(value: float) -> float | None:
    """JSON has no NaN: a statistic over no tokens is null."""
    return None if value != value else round(value, 6)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _collection_metrics(collected: Collected, batch_prompts: int) -> dict[str, Any]:
    drawn = max(collected.prompts_drawn, 1)
    return {
        "reward_mean": _mean(collected.unhinted_rewards),
        "hinted_reward_mean": _mean(collected.hinted_rewards),
        "hint_fraction": round(collected.hinted_prompts / drawn, 6),
        "filtered_fraction": round(collected.dropped_groups / drawn, 6),
        "prompts_drawn": collected.prompts_drawn,
        "groups": len(collected.groups),
        "guided_groups": sum(g.hinted for g in collected.groups),
        "batch_full": len(collected.groups) >= batch_prompts,
        "completion_tokens": collected.generated_tokens,
        "mean_completion_tokens": round(collected.generated_tokens / max(collected.samples, 1), 2),
    }


def _memory() -> dict[str, float]:
    if not torch.cuda.is_available():
        return {}
    peak = torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    return {"gpu_peak_gib": round(peak, 3)}


def train(
    config: RLConfig,
    *,
    models_dir: Path | None = None,
    plugins: PluginRegistry | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> RunResult:
    """Run (or resume) the training run that ``config`` describes, in this process.

    Args:
        models_dir: where packaged models are converted (``Workspace.models_dir``); the run dir when None.
        plugins: reward plugins; the installed ``naa.plugins`` entry points when None.
        progress: called with each step's metrics (the CLI's progress bar, a Celery task's job row).
        should_stop: asked after every step; True checkpoints the step and returns (a cancel).

    Raises:
        TrainingError: the tasks or a checkpoint cannot be used. ModelUnavailableError: the model cannot load.
    """
    run = _Run(config, models_dir or config.output_dir / "models", plugins)
    if run.accelerator.is_main_process:
        # Only the fields the user set (so it validates again), absolute paths (so it loads from anywhere).
        saved = config.model_dump(mode="json", exclude_unset=True)
        saved.update(tasks=str(config.tasks.resolve()), output_dir=str(config.output_dir.resolve()))
        write_json(config.output_dir / CONFIG_NAME, saved)
    step = run.resume()
    if step >= config.steps:
        raise TrainingError(
            f"run {config.output_dir} already has {step} steps (config steps: {config.steps}); "
            "raise steps to continue it, or use a new output_dir"
        )
    while step < config.steps:
        step += 1
        record = run.step(step)
        if run.accelerator.is_main_process:
            run.metrics.append(record)
            if progress is not None:
                progress(record)
        stop = should_stop is not None and should_stop()
        if step % config.checkpoint_every == 0 or step == config.steps or stop:
            run.checkpoint(step)
        if stop and step < config.steps:
            return RunResult(config.output_dir, step, True, None, run.metrics.read())
    return RunResult(config.output_dir, step, False, run.finish(step), run.metrics.read())
