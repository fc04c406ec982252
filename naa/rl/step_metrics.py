"""One step's metrics over every process: each reports sums, counts, minima and maxima of its own share, the
trainer reduces them across processes, and ``step_record`` turns the totals into the logged values.

Processes keep different numbers of groups when filtering drops some, so a step's reward mean is the mean
over all its completions, never a mean of per-process means. With one process the reduction is the identity.

    mine = step_partials(collected, trained, seconds)   # on every process
    record = step_record(step, mine.reduced(rows), expected_groups)   # rows: every process's mine.values()
"""

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from naa.rl.groups import Collected

_RANGED = ("ratio", "guided_ratio")  # logged with min and max; the other token statistics as means only


@dataclass(frozen=True)
class Trained:
    """What the optimisation passes of one process saw: its share of the loss and its token statistics."""

    loss: float
    gamma: float
    tokens: dict[str, Tensor]  # ratio, guided_ratio, kl, entropy: (n,) values over real tokens


@dataclass(frozen=True)
class Partials:
    """One process's parts of the step's metrics; every process has the same keys in the same order."""

    sums: dict[str, float]
    mins: dict[str, float]
    maxs: dict[str, float]

    def values(self) -> list[float]:
        return [*self.sums.values(), *self.mins.values(), *self.maxs.values()]

    def reduced(self, rows: Tensor) -> "Partials":
        """Totals from ``rows`` ``(P, K)``, every process's ``values()``: sums, minima, maxima per column."""
        a, b = len(self.sums), len(self.sums) + len(self.mins)
        return Partials(
            dict(zip(self.sums, rows[:, :a].sum(dim=0).tolist(), strict=True)),
            dict(zip(self.mins, rows[:, a:b].amin(dim=0).tolist(), strict=True)),
            dict(zip(self.maxs, rows[:, b:].amax(dim=0).tolist(), strict=True)),
        )


def step_partials(collected: Collected, trained: Trained | None, seconds: dict[str, float]) -> Partials:
    """This process's parts; ``trained`` is None when no process kept a group (no optimisation step)."""
    sums = {
        "reward_sum": sum(collected.unhinted_rewards),
        "reward_count": len(collected.unhinted_rewards),
        "hinted_reward_sum": sum(collected.hinted_rewards),
        "hinted_reward_count": len(collected.hinted_rewards),
        "prompts_drawn": collected.prompts_drawn,
        "hinted_prompts": collected.hinted_prompts,
        "dropped_groups": collected.dropped_groups,
        "groups": len(collected.groups),
        "guided_groups": sum(g.hinted for g in collected.groups),
        "samples": collected.samples,
        "completion_tokens": collected.generated_tokens,
        "loss": trained.loss if trained else 0.0,
        "optimised": float(trained is not None),
    }
    mins: dict[str, float] = {}
    maxs = {"gamma": trained.gamma if trained else -math.inf, **seconds, **_memory()}
    for name in ("ratio", "guided_ratio", "kl", "entropy"):
        values = trained.tokens.get(name, torch.empty(0)) if trained else torch.empty(0)
        sums[f"{name}_sum"], sums[f"{name}_count"] = values.double().sum().item(), values.numel()
        if name in _RANGED:
            empty = values.numel() == 0
            mins[f"{name}_min"] = math.inf if empty else values.min().item()
            maxs[f"{name}_max"] = -math.inf if empty else values.max().item()
    return Partials({k: float(v) for k, v in sums.items()}, mins, maxs)


def step_record(step: int, totals: Partials, expected_groups: int) -> dict[str, Any]:
    """The metrics.jsonl line of a step from the reduced ``totals``; ``expected_groups`` fills the batch."""
    s, low, high = totals.sums, totals.mins, totals.maxs
    drawn, tokens = max(s["prompts_drawn"], 1), s["completion_tokens"]
    optimised = s["optimised"] > 0
    record: dict[str, Any] = {
        "step": step,
        "reward_mean": _mean(s["reward_sum"], s["reward_count"]),
        "hinted_reward_mean": _mean(s["hinted_reward_sum"], s["hinted_reward_count"]),
        "hint_fraction": round(s["hinted_prompts"] / drawn, 6),
        "filtered_fraction": round(s["dropped_groups"] / drawn, 6),
        "prompts_drawn": int(s["prompts_drawn"]),
        "groups": int(s["groups"]),
        "guided_groups": int(s["guided_groups"]),
        "batch_full": s["groups"] >= expected_groups,
        "completion_tokens": int(tokens),
        "mean_completion_tokens": round(tokens / max(s["samples"], 1), 2),
        "loss": s["loss"] if optimised else None,
        "gamma": high["gamma"] if optimised else None,
    }
    for name in ("ratio", "guided_ratio", "kl", "entropy"):
        mean = _mean(s[f"{name}_sum"], s[f"{name}_count"])
        if name in _RANGED:
            record[f"{name}_mean"] = mean
            record[f"{name}_min"] = _finite(low[f"{name}_min"])
            record[f"{name}_max"] = _finite(high[f"{name}_max"])
        else:
            record[name] = mean
    # The step lasts as long as its slowest process; the processes generate at the same time.
    record.update(
        generation_s=round(high["generation_s"], 4),
        training_s=round(high["training_s"], 4),
        step_s=round(high["step_s"], 4),
        tokens_per_s=round(tokens / high["step_s"], 2),
        generation_tokens_per_s=round(tokens / max(high["generation_s"], 1e-9), 2),
    )
    if "gpu_peak_gib" in high:
        record["gpu_peak_gib"] = round(high["gpu_peak_gib"], 3)
    return record


def _mean(total: float, count: float) -> float | None:
    """JSON has no NaN: a mean over nothing is null."""
    return round(total / count, 6) if count else None


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def _memory() -> dict[str, float]:
    if not torch.cuda.is_available():
        return {}
    peak = torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    return {"gpu_peak_gib": peak}
