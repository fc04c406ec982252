"""Steps 1-2 of Guide-GRPO: sample groups, score them, hint the failed ones, drop the uninformative ones.

What happens to a group is the variant's ``GroupRule`` (config.py): vanilla keeps every group; filtered
drops groups whose rewards are all equal and draws new prompts; guide also resamples a group with no
correct completion with the hint in context and keeps that hinted group only if its rewards differ.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from naa.rl.advantages import as_rewards, failed_groups, informative_groups
from naa.rl.config import GroupRule
from naa.rl.prompts import task_messages
from naa.rl.rewards import RewardScorer
from naa.rl.rollout import Sample, Sampler
from naa.rl.tasks import RLTask


@dataclass(frozen=True)
class Group:
    """G completions of one prompt, with the prompt they were sampled from and the one the policy sees."""

    task_index: int
    hinted: bool
    sampling_prompt: tuple[int, ...]  # q + h when hinted, else q
    plain_prompt: tuple[int, ...]  # q: the policy's context, the ratio's numerator
    samples: list[Sample]
    rewards: list[float]


@dataclass
class Collected:
    """The groups kept for one step, and what it took to find them (for the step's metrics)."""

    groups: list[Group] = field(default_factory=list)
    prompts_drawn: int = 0
    hinted_prompts: int = 0  # prompts whose unhinted group failed and were resampled with the hint
    dropped_groups: int = 0
    unhinted_rewards: list[float] = field(default_factory=list)
    hinted_rewards: list[float] = field(default_factory=list)
    samples: int = 0  # completions sampled, hinted or not
    generated_tokens: int = 0
    seconds: float = 0.0


class PromptEncoder:
    """Chat-template token ids of each task, with and without its hint, computed once."""

    def __init__(self, tokenizer: Any, tasks: Sequence[RLTask]) -> None:
        self.tokenizer, self.tasks = tokenizer, tasks
        self._cache: dict[tuple[int, bool], tuple[int, ...]] = {}

    def __call__(self, index: int, with_hint: bool) -> tuple[int, ...]:
        key = (index, with_hint)
        if key not in self._cache:
            text = self.tokenizer.apply_chat_template(
                task_messages(self.tasks[index], with_hint), tokenize=False, add_generation_prompt=True
            )
            self._cache[key] = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._cache[key]

    def longest(self) -> int:
        """Tokens in the longest prompt of any task, hinted or not: the static sampler lays every batch out
        at least this wide, so one run samples every prompt with one compiled shape."""
        return max(len(self(i, hinted)) for i in range(len(self.tasks)) for hinted in (False, True))


@dataclass(frozen=True)
class GroupCollector:
    tasks: Sequence[RLTask]
    encode: PromptEncoder
    sampler: Sampler
    scorer: RewardScorer
    rule: GroupRule
    group_size: int
    batch_prompts: int
    max_rounds: int
    success_threshold: float

    def _sample(
        self, indices: list[int], with_hint: bool, out: Collected
    ) -> tuple[list[list[Sample]], list[list[float]]]:
        prompts = [self.encode(i, with_hint) for i in indices]
        groups = self.sampler.sample(prompts, self.group_size)
        tasks = [self.tasks[i] for i in indices for _ in range(self.group_size)]
        flat = self.scorer.score(tasks, [s.text for g in groups for s in g])
        out.samples += sum(len(g) for g in groups)
        out.generated_tokens += sum(len(s.completion_ids) for g in groups for s in g)
        rewards = [flat[k * self.group_size : (k + 1) * self.group_size] for k in range(len(indices))]
        return groups, rewards

    def _group(self, index: int, hinted: bool, samples: list[Sample], rewards: list[float]) -> Group:
        return Group(index, hinted, self.encode(index, hinted), self.encode(index, False), samples, rewards)

    def collect(self, draw: Callable[[int], list[int]]) -> Collected:
        """Draw prompts until ``batch_prompts`` groups are kept or ``max_rounds`` rounds have passed."""
        out = Collected()
        start = time.perf_counter()
        for _ in range(self.max_rounds):
            indices = draw(self.batch_prompts - len(out.groups))
            out.prompts_drawn += len(indices)
            samples, rewards = self._sample(indices, with_hint=False, out=out)
            out.unhinted_rewards.extend(r for group in rewards for r in group)
            table = as_rewards(rewards)  # (N, G)
            keep = informative_groups(table).tolist() if self.rule.drop_equal else [True] * len(indices)
            failed = failed_groups(table, self.success_threshold).tolist() if self.rule.hint_failed else []
            hinted = [k for k, f in enumerate(failed) if f]  # positions in this round's draw
            retried: dict[int, Group | None] = {}
            if hinted:
                out.hinted_prompts += len(hinted)
                h_samples, h_rewards = self._sample([indices[k] for k in hinted], with_hint=True, out=out)
                out.hinted_rewards.extend(r for group in h_rewards for r in group)
                h_keep = informative_groups(as_rewards(h_rewards)).tolist()
                for k, group, reward, informative in zip(hinted, h_samples, h_rewards, h_keep, strict=True):
                    retried[k] = self._group(indices[k], True, group, reward) if informative else None
            for k, index in enumerate(indices):
                plain = self._group(index, False, samples[k], rewards[k]) if keep[k] else None
                chosen = retried.get(k, plain)
                if chosen is None:
                    out.dropped_groups += 1
                else:
                    out.groups.append(chosen)
            if len(out.groups) >= self.batch_prompts or not self.rule.drop_equal:
                break
        out.seconds = time.perf_counter() - start
        return out
