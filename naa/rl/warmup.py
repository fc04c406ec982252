"""A short supervised warm-up before RL: the model learns to end its reply with the final JSON block.

Every GRPO variant learns only from groups whose rewards differ, and Guide-GRPO's hinted groups help only
where the model sometimes succeeds with the hint. A model that never writes the final JSON block the
verifiers read scores 0 with the hint and without it (SmolLM2-135M-Instruct on the demo tasks, README
"Performance"), so no variant gets a gradient. A few hundred steps of supervised fine-tuning on
demonstrations built from the train tasks (the hint as the worked reasoning, then the answer as the final
JSON block) teach the format, as the cold-start stage before RL in DeepSeek-R1 (arXiv 2501.12948) does;
RL then starts from the warmed model.
"""

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import torch

from naa.errors import TrainingError
from naa.model_dirs import atomic_model_dir, check_replaceable
from naa.rl.groups import PromptEncoder
from naa.rl.logprobs import completion_logprobs
from naa.rl.policy import load_causal_lm
from naa.rl.tasks import ActionTask, CitationTask, ComputationTask, IntentTask, RefusalTask, RLTask

LOG_NAME = "warmup.json"  # beside the warmed model's weights


def final_answer(task: RLTask) -> dict[str, Any]:
    """The final JSON block that earns the task's full reward (the keys ``prompts.ANSWER_FORMATS`` shows)."""
    if isinstance(task, IntentTask):
        return {"intent": task.answer}
    if isinstance(task, ActionTask):
        return {"action": task.answer.action, **task.answer.slots}
    if isinstance(task, ComputationTask):
        value = task.answer
        return {"answer": value.isoformat() if isinstance(value, date) else value}
    if isinstance(task, CitationTask):
        return {"article": task.answer}
    if isinstance(task, RefusalTask):
        return {"refuse": task.answer}
    raise TypeError(f"no final answer for task type {type(task).__name__}")


def demonstration(task: RLTask) -> str:
    """A correct reply to ``task``: its hint as the reasoning, then the final JSON block."""
    return f"{task.hint}\n\n```json\n{json.dumps(final_answer(task))}\n```"


@dataclass(frozen=True)
class WarmupResult:
    model_path: Path
    losses: list[float]  # mean token loss per step
    seconds: float


def warm_up(
    model: str,
    tasks: Sequence[RLTask],
    out: Path,
    *,
    steps: int,
    batch_size: int = 8,
    lr: float = 2e-5,
    seed: int = 0,
    device: str | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> WarmupResult:
    """Fine-tune every weight of ``model`` (a folder) on demonstrations of ``tasks``; save it to ``out``.

    Batches cycle through the tasks in a seeded shuffled order. The model is written with
    ``atomic_model_dir``, so a failed or killed warm-up leaves ``out`` as it was; its ``warmup.json`` keeps
    the settings and the loss curve.

    Raises:
        ModelUnavailableError: ``model`` is no loadable model folder.
        ConfigError: ``out`` is a file, or a folder holding files but no model (it would be replaced).
        ValueError: no tasks, or ``steps`` / ``batch_size`` below 1.
        TrainingError: the loss or the gradient norm is not finite (nothing is written).
    """
    if not tasks:
        raise ValueError("no tasks to warm up on: the task file's train split is empty")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be at least 1, not {steps} and {batch_size}")
    check_replaceable(out, "config.json")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    # float32 weights and compute: bfloat16 weights would round away updates of lr 2e-5, and under bfloat16
    # autocast on an H200 (2026-11-28) the gradient norm turned NaN at step 6 and every weight after it.
    # A warm-up is a few hundred small steps: float32 costs seconds on a GPU (60 steps: 8.8 s).
    policy, tokenizer = load_causal_lm(model, "float32", device)
    policy.train()
    encode = PromptEncoder(tokenizer, tasks)
    end = () if tokenizer.eos_token_id is None else (tokenizer.eos_token_id,)  # the reply stops there
    replies = [(*tokenizer(demonstration(t), add_special_tokens=False)["input_ids"], *end) for t in tasks]
    optimizer = torch.optim.AdamW(policy.parameters(), lr=lr)
    order: list[int] = []
    shuffle = random.Random(seed)
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch: list[int] = []
        while len(batch) < batch_size:
            if not order:
                order = list(range(len(tasks)))
                shuffle.shuffle(order)
            batch.append(order.pop())
        prompts, completions = [encode(i, False) for i in batch], [replies[i] for i in batch]
        scored = completion_logprobs(policy, prompts, completions)
        loss = -(scored.logprobs.sum() / scored.mask.sum())  # mean over the batch's reply tokens
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        # One non-finite gradient turns every weight into NaN at the optimizer step, silently: stop first.
        if not (torch.isfinite(loss) and torch.isfinite(norm)):
            raise TrainingError(
                f"warm-up diverged at step {step} (loss {loss.item()}, gradient norm {norm.item()}): "
                "lower the learning rate"
            )
        optimizer.step()
        optimizer.zero_grad()
        losses.append(round(loss.item(), 6))
        if progress is not None:
            progress(step, losses[-1])
    seconds = round(time.perf_counter() - start, 2)
    log = {
        "model": model,
        "tasks": len(tasks),
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "seconds": seconds,
        "losses": losses,
    }
    with atomic_model_dir(out) as staging:
        policy.save_pretrained(staging)  # type: ignore[operator]  # a transformers model: nn.Module to mypy
        tokenizer.save_pretrained(staging)
        (staging / LOG_NAME).write_text(json.dumps(log) + "\n")
    return WarmupResult(out, losses, seconds)
