"""The one RL trainer: Guide-GRPO, filtered GRPO and vanilla GRPO, chosen by ``RLConfig.variant``.

The loop of DESIGN.md "Guide-GRPO" per step: collect groups (``groups.py``: sample, score, hint, filter),
advantages (``advantages.py``), log-probs of the sampling context (``logprobs.py``), the loss
(``losses.py``), one or more optimisation passes, then metrics and checkpoints (``run_state.py``).
This module orchestrates; every formula lives in losses.py and advantages.py.

Under ``accelerate launch`` each process runs this loop on its own prompts; they meet in the gradient
all-reduce, in the gathers of ``processes.py`` (gamma, batch size, ``step_metrics.py``) and at checkpoints,
and the main process alone writes the run folder.

    result = train(RLConfig.from_yaml(Path("rl.yaml")), progress=print)
"""

import contextlib
import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import gather_object, set_seed
from torch import Tensor

from naa.config.plugins import PluginRegistry
from naa.errors import TrainingError
from naa.generation.model_files import resolve_model_source
from naa.model_dirs import atomic_model_dir
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
    regularised_token_loss,
    shaping_gamma,
)
from naa.rl.model_version import ModelVersionManifest, write_manifest
from naa.rl.policy import load_causal_lm, non_finite_weights, with_lora
from naa.rl.processes import gather_rows, make_accelerator, per_process
from naa.rl.rewards import RewardScorer
from naa.rl.rollout import Sampler, SamplingSettings, TransformersSampler, VLLMSampler, require_vllm
from naa.rl.run_state import (
    DataOrder,
    MetricsLog,
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    weights_checksum,
    write_json,
)
from naa.rl.static_rollout import StaticCacheSampler
from naa.rl.step_metrics import Trained, step_partials, step_record
from naa.rl.tasks import load_tasks
from naa.rl.warmup import LOG_NAME as WARMUP_LOG
from naa.rl.warmup import warm_up

CONFIG_NAME = "config.json"  # the run's RLConfig, for resuming by hand and for `naa rl eval`
# What a resumed run may change: how long it runs, its step size (a diverged run resumes from its last
# checkpoint with a lower lr), and how its steps are carried out; not what it learns, from what, or how.
RESUMABLE_FIELDS = frozenset(
    {
        "steps",
        "lr",
        "run_name",
        "output_dir",
        "checkpoint_every",
        "keep_checkpoints",
        "micro_batch_size",
        "rollout_batch_size",
        "rollout_backend",
        "compile_rollout",
    }
)
ProgressFn = Callable[[dict[str, Any]], None]
WarmupProgressFn = Callable[[int, float], None]  # warm-up step, its loss
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
    def __init__(
        self,
        config: RLConfig,
        models_dir: Path,
        plugins: PluginRegistry | None,
        warmup_progress: WarmupProgressFn | None,
    ) -> None:
        self.config = config
        if config.rollout_backend == "vllm":
            require_vllm()
        self.accelerator = make_accelerator()
        self.tasks = load_tasks(config.tasks, split="train")
        scorer = RewardScorer(plugins, default=config.reward)
        scorer.check(self.tasks)
        with self.accelerator.local_main_process_first():  # a packaged model is converted once per machine
            self.source = resolve_model_source(config.model, models_dir)
        if config.warmed_model_dir is not None:
            # The main process warms up while the others wait; then every process loads the warmed model.
            with self.accelerator.main_process_first():
                self.source = self._warm_up(config.warmed_model_dir, warmup_progress)
        # Seeded after the warm-up, so a run draws the same whether its warm-up ran now or before a resume.
        # Rank r samples from seed + r (rank 0 as with one process): one seed everywhere would give every
        # process the same random draws. The weights still start equal: prepare broadcasts rank 0's.
        set_seed(config.seed, device_specific=True)
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
        encode = PromptEncoder(self.tokenizer, self.tasks)
        self.sampler = self._sampler(encode)
        self.collector = GroupCollector(
            tasks=self.tasks,
            encode=encode,
            sampler=self.sampler,
            scorer=scorer,
            rule=config.group_rule,
            group_size=config.group_size,
            batch_prompts=config.batch_prompts,
            max_rounds=config.max_draw_rounds,
            success_threshold=config.success_threshold,
        )

    def _warm_up(self, out: Path, progress: WarmupProgressFn | None) -> str:
        """Run the config's warm-up into ``out``, unless an earlier attempt of the run finished it."""
        c = self.config
        if self.accelerator.is_main_process and not (out / WARMUP_LOG).is_file():
            device = str(self.accelerator.device)
            warm_up(
                self.source, self.tasks, out, steps=c.warmup_steps, batch_size=c.warmup_batch_size,
                lr=c.warmup_lr, seed=c.seed, device=device, progress=progress,
            )  # fmt: skip
        return str(out)

    def _sampler(self, encode: PromptEncoder) -> Sampler:
        c = self.config
        # A step never samples more than batch_prompts x group_size sequences at once; a static sampler
        # lays every call out at the batch size, so a larger one would only add padding rows.
        batch = min(c.rollout_batch_size, c.batch_prompts * c.group_size)
        settings = SamplingSettings(c.max_new_tokens, c.temperature, c.top_p, batch)
        model = self.accelerator.unwrap_model(self.model)
        if c.rollout_backend == "vllm":
            a = self.accelerator
            return VLLMSampler(
                self.source, self.tokenizer, settings, c.seed,
                a.process_index, a.local_process_index, a.num_processes,
            )  # fmt: skip
        if c.rollout_backend == "static":
            return StaticCacheSampler(
                model, self.tokenizer, settings, compile=c.compile_rollout, prompt_width=encode.longest()
            )
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

    def _gamma(self, start_ratios: Tensor, mask: Tensor, guided: Tensor) -> Tensor:
        """Shaping gamma over the guided ratios of the whole batch, gathered from every process."""
        ratios = gather_rows(self.accelerator, start_ratios)
        mask = gather_rows(self.accelerator, mask)  # padded rows are masked out
        guided = gather_rows(self.accelerator, guided.float()).bool()  # (gloo gathers no bool tensors)
        c = self.config
        return shaping_gamma(ratios, mask, guided, c.gamma_mode, c.gamma_value, c.gamma_quantile)

    def _idle_loss(self) -> Tensor:
        """A zero loss through the wrapped model, so a process with fewer micro-batches (or none) joins
        every backward of the others: DDP all-reduces gradients there and waits for every process."""
        token = [(self.tokenizer.pad_token_id,)]
        return completion_logprobs(self.model, token, token, self.config.temperature).logprobs.sum() * 0.0

    # --- one step ------------------------------------------------------------------------------------------

    def _start_logprobs(self, batch: TrainBatch) -> tuple[Tensor, Tensor, Tensor]:
        """Log-probs ``(B, T)`` before the update: the plain prompt's, the sampling context's (the ratio's
        denominator) and the start model's (the KL reference)."""
        plain = self._score(batch.plain_prompts, batch)  # (B, T) log pi_old(o | q)
        hinted = self._score(batch.sampling_prompts, batch) if batch.guided.any() else plain
        sampling = torch.where(batch.guided.unsqueeze(1), hinted, plain)  # (B, T) denominator
        reference = self._score(batch.plain_prompts, batch, reference=True)  # (B, T) start model
        return plain, sampling, reference

    def _micro_loss(
        self,
        batch: TrainBatch,
        rows: slice,
        start: tuple[Tensor, Tensor],
        gamma: Tensor,
        size: BatchSize,
        seen: dict[str, list[Tensor]],
    ) -> Tensor:
        """Loss of the completions ``rows`` under the policy, their share of the batch loss; their token
        statistics go to ``seen``. ``start`` holds the sampling and reference log-probs ``(B, T)``."""
        c = self.config
        scored = completion_logprobs(
            self.model, batch.plain_prompts[rows], batch.completions[rows], c.temperature, c.entropy_coef > 0
        )
        width = scored.logprobs.shape[1]
        sampling, reference = (t[rows, :width] for t in start)
        ratios = importance_ratios(scored.logprobs, sampling)  # (b, t)
        policy_loss = guide_token_loss(ratios, batch.advantages[rows], batch.guided[rows], c.epsilon, gamma)
        kl = k3_kl(scored.logprobs, reference)  # (b, t)
        token_loss = regularised_token_loss(policy_loss, kl, c.kl_coef, scored.entropy, c.entropy_coef)
        real, guided = scored.mask.bool(), batch.guided[rows].unsqueeze(1)
        seen["ratio"].append(ratios.detach()[real & ~guided])
        seen["guided_ratio"].append(ratios.detach()[real & guided])
        seen["kl"].append(kl.detach()[real])
        if scored.entropy is not None:
            seen["entropy"].append(scored.entropy.detach()[real])
        return AGGREGATIONS[c.aggregation](token_loss, scored.mask, size)

    def _optimise(self, batch: TrainBatch | None, size: BatchSize, passes: int) -> Trained:
        """Optimisation passes over this process's share of the batch (None: it kept no group).

        ``size`` counts the whole batch over every process; ``passes`` is the most micro-batches any
        process has, and every process runs that many forward/backward passes per epoch.
        """
        c = self.config
        device = self.accelerator.device
        parts = self._micro_batches(len(batch.completions)) if batch is not None else []
        start: tuple[Tensor, Tensor] = (torch.zeros(0, 1, device=device),) * 2
        start_ratios, mask = start
        guided = torch.zeros(0, dtype=torch.bool, device=device)
        if batch is not None:
            plain, sampling, reference = self._start_logprobs(batch)
            start, start_ratios = (sampling, reference), importance_ratios(plain, sampling)
            mask, guided = batch.mask, batch.guided
        gamma = self._gamma(start_ratios, mask, guided)
        # ``size`` normalises by the whole batch, so the processes' losses add up to the batch loss; DDP
        # averages gradients over the P processes, hence the factor P in the backward.
        scale = self.accelerator.num_processes / c.ppo_epochs
        seen: dict[str, list[Tensor]] = {"ratio": [], "guided_ratio": [], "kl": [], "entropy": []}
        loss_total = 0.0
        for _ in range(c.ppo_epochs):
            for k in range(passes):
                # Accumulate locally; gradients are all-reduced once, in the last backward of the epoch.
                last = k == passes - 1
                with contextlib.nullcontext() if last else self.accelerator.no_sync(self.model):
                    if batch is None or k >= len(parts):
                        self.accelerator.backward(self._idle_loss())
                        continue
                    loss = self._micro_loss(batch, parts[k], start, gamma, size, seen)
                    self.accelerator.backward(loss * scale)
                    loss_total += loss.item() / c.ppo_epochs
            self.accelerator.clip_grad_norm_(self.model.parameters(), c.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad()
        return Trained(loss_total, gamma.item(), {k: torch.cat(v) for k, v in seen.items() if v})

    def step(self, step: int) -> dict[str, Any]:
        """One step on every process; returns the step's metrics over all of them (the same everywhere)."""
        start = time.perf_counter()
        collected = self.collector.collect(self.order.draw)
        train_start = time.perf_counter()
        batch = None
        if collected.groups:
            batch = _flatten(collected, self.config.advantage_eps, self.accelerator.device)
        rows = len(batch.completions) if batch is not None else 0
        tokens = batch.mask.sum().item() if batch is not None else 0.0
        shares = per_process(self.accelerator, [rows, tokens, len(self._micro_batches(rows))])  # (P, 3)
        trained = None
        if shares[:, 0].sum() > 0:  # some process kept a group: all take part in the optimisation step
            total_rows, total_tokens = (int(v) for v in shares[:, :2].sum(dim=0).tolist())
            size = BatchSize(total_rows, total_tokens, self.config.max_new_tokens)
            trained = self._optimise(batch, size, int(shares[:, 2].max().item()))
            model = self.accelerator.unwrap_model(self.model)
            # Sampling from NaN weights would fail at the next step, on a GPU as a device-side assert that
            # ends the CUDA context: stop here, before this step is logged or checkpointed.
            broken = non_finite_weights(model, trainable_only=True)
            if broken:
                raise TrainingError(
                    f"training diverged at step {step}: the update left NaN or infinite values in "
                    f"{len(broken)} weight tensors (first: {broken[0]}); lower lr, then run again with the "
                    "same output_dir to resume from the last checkpoint"
                )
            self.sampler.sync_weights(model)
        end = time.perf_counter()
        seconds = {"generation_s": collected.seconds, "training_s": end - train_start, "step_s": end - start}
        mine = step_partials(collected, trained, seconds)
        totals = mine.reduced(per_process(self.accelerator, mine.values()))
        return step_record(step, totals, self.config.batch_prompts * self.accelerator.num_processes)

    def agree(self, flag: bool) -> bool:
        """True on every process when any process says True (a cancel must stop all of them)."""
        return bool(per_process(self.accelerator, [float(flag)]).max().item() > 0)

    # --- the loop ------------------------------------------------------------------------------------------

    def resume(self) -> int:
        checkpoints = list_checkpoints(self.config.output_dir)
        if not checkpoints:
            if self.accelerator.is_main_process:
                self.metrics.truncate_after(0)
            return 0
        model = self.accelerator.unwrap_model(self.model)
        checkpoint = load_checkpoint(checkpoints[-1], model, self.optimizer, self.accelerator.process_index)
        # The optimizer's saved state brings back its learning rate; the config's wins, so that a diverged
        # run resumes from its last checkpoint with the lower lr it was given.
        for group in self.optimizer.param_groups:
            group.update(lr=self.config.lr, weight_decay=self.config.weight_decay)
        saved = checkpoint.state["data_order"]
        # Checkpoints hold every process's data order (a list); older ones one process's (a dict).
        self.order.load_state_dict(saved if isinstance(saved, list) else [saved])
        if self.accelerator.is_main_process:
            self.metrics.truncate_after(checkpoint.step)
        self.sampler.sync_weights(model)
        return checkpoint.step

    def checkpoint(self, step: int) -> None:
        """The main process writes; every process sends it its data order and RNG, then all wait."""
        model = self.accelerator.unwrap_model(self.model)
        shares = gather_object([(self.order.state_dict(), rng_state(), weights_checksum(model))])
        orders, rngs, checksums = (list(column) for column in zip(*shares, strict=True))
        # Data-parallel replicas must hold the same weights; the checkpoint saves only the main one's.
        if any(checksum != checksums[0] for checksum in checksums):
            raise TrainingError(
                f"after step {step} the processes' weights differ (checksums {checksums}): the data-parallel "
                "replicas went out of sync, which is a trainer bug; the run was not checkpointed"
            )
        if self.accelerator.is_main_process:
            state = {"data_order": orders, "replica_checksums": checksums}
            save_checkpoint(
                self.config.output_dir, step, model, self.optimizer, state, self.config.keep_checkpoints, rngs
            )
        self.accelerator.wait_for_everyone()

    def finish(self, step: int) -> Path:
        """Save the trained model (adapters merged) and the model-version manifest, once."""
        target = self.config.output_dir / "final"
        model = self.accelerator.unwrap_model(self.model)
        if self.accelerator.is_main_process:
            merged = model.merge_and_unload() if self.config.finetune == "lora" else model
            with atomic_model_dir(target) as staging:  # a resumed run may find an earlier, cut-off one
                merged.save_pretrained(staging)
                self.tokenizer.save_pretrained(staging)
            records = self.metrics.read()
            last = records[-1] if records else {}
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


def train(
    config: RLConfig,
    *,
    models_dir: Path | None = None,
    plugins: PluginRegistry | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    warmup_progress: WarmupProgressFn | None = None,
) -> RunResult:
    """Run (or resume) the training run that ``config`` describes, in this process.

    Args:
        models_dir: where packaged models are converted (``Workspace.models_dir``); the run dir when None.
        plugins: reward plugins; the installed ``naa.plugins`` entry points when None.
        progress: called with each step's metrics (the CLI's progress bar, a Celery task's job row).
        should_stop: asked after every step; True checkpoints the step and returns (a cancel).
        warmup_progress: called after each step of the config's warm-up (``warmup_steps``), which runs
            first, once: a resumed run whose warm-up finished starts from its saved model.

    Raises:
        TrainingError: the tasks or a checkpoint cannot be used. ModelUnavailableError: the model cannot load.
    """
    _check_resumable(config)
    run = _Run(config, models_dir or config.output_dir / "models", plugins, warmup_progress)
    step = run.resume()
    if step >= config.steps:
        raise TrainingError(
            f"run {config.output_dir} already has {step} steps (config steps: {config.steps}); "
            "raise steps to continue it, or use a new output_dir"
        )
    if run.accelerator.is_main_process:  # once the run is known to go on with this config
        # Only the fields the user set (so it validates again), absolute paths (so it loads from anywhere).
        saved = config.model_dump(mode="json", exclude_unset=True)
        saved.update(tasks=str(config.tasks.resolve()), output_dir=str(config.output_dir.resolve()))
        if Path(config.model).is_dir():  # a model folder, so `naa rl eval` finds it from any directory
            saved["model"] = str(Path(config.model).resolve())
        write_json(config.output_dir / CONFIG_NAME, saved)
    while step < config.steps:
        step += 1
        record = run.step(step)
        if run.accelerator.is_main_process:
            run.metrics.append(record)
            if progress is not None:
                progress(record)
        stop = run.agree(should_stop is not None and should_stop())
        if step % config.checkpoint_every == 0 or step == config.steps or stop:
            run.checkpoint(step)
        if stop and step < config.steps:
            return RunResult(config.output_dir, step, True, None, run.metrics.read())
    return RunResult(config.output_dir, step, False, run.finish(step), run.metrics.read())


def _check_resumable(config: RLConfig) -> None:
    """Refuse to resume a checkpointed run with settings outside ``RESUMABLE_FIELDS`` that differ from the
    ones it trained with: the run would go on as another experiment under the first one's name.

    Raises:
        TrainingError: naming each changed setting.
    """
    saved = config.output_dir / CONFIG_NAME
    if not list_checkpoints(config.output_dir) or not saved.is_file():
        return
    # The settings a resume may change are left out: they are not compared, and the saved lr can be one
    # no run file may give (a diverged run's), which would not validate.
    written = json.loads(saved.read_text(encoding="utf-8"))
    trained = RLConfig.model_validate({k: v for k, v in written.items() if k not in RESUMABLE_FIELDS})
    changed = [
        f"{name}: {getattr(trained, name)} -> {getattr(config, name)}"
        for name in RLConfig.model_fields
        if name not in RESUMABLE_FIELDS and _differs(getattr(trained, name), getattr(config, name))
    ]
    if changed:
        raise TrainingError(
            f"run {config.output_dir} trained with other settings ({'; '.join(changed)}): resume it with "
            f"those in its {CONFIG_NAME}, or train these in a new output_dir"
        )


def _differs(trained: object, now: object) -> bool:
    if isinstance(trained, Path) and isinstance(now, Path):
        return trained.resolve() != now.resolve()
    if isinstance(trained, str) and isinstance(now, str) and trained != now:
        # A model folder: saved absolute, given relative to the run file.
        same_folder = Path(trained).is_dir() and Path(now).is_dir()
        return not same_folder or Path(trained).resolve() != Path(now).resolve()
    return trained != now
