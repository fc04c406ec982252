"""Verifiers written as code: a reply's final JSON block against the task's answer, no judge model.

The answer format (also shown to the model by ``prompts.py``): the reply ENDS with a fenced block

    ```json
    {"action": "refund", "order_id": "TB-20481736", "amount": 42.5}
    ```

with nothing but whitespace after it. A reply without such a block, or whose block is not a JSON object,
scores 0 (a format error). Rewards are in [0, 1]; 1 means fully correct.

Partners add reward functions as plugins: a ``naa.plugins`` entry point whose Plugin registers, under
kind ``reward``, a factory returning a callable ``(task, reply) -> float``; a task names it in ``reward``.
"""

import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from naa.config.plugins import PluginRegistry, load_plugins
from naa.errors import ConfigError, TrainingError
from naa.rl.tasks import ActionTask, CitationTask, ComputationTask, IntentTask, RefusalTask, RLTask, TaskType

RewardFn = Callable[[Any, str], float]

_FENCE = "```json"
_BLOCK = re.compile(r"```json[ \t]*\n(?P<body>.*?)```\s*", re.DOTALL)


def final_json(reply: str) -> dict[str, Any] | None:
    """The JSON object of the reply's last ```json block, or None on a format error.

    The block must end the reply (only whitespace after its closing fence) and hold a JSON object.
    """
    match = _BLOCK.fullmatch(reply, pos=max(reply.rfind(_FENCE), 0))
    if match is None:
        return None
    try:
        payload = json.loads(match.group("body"))
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _same_text(got: object, expected: str) -> bool:
    return isinstance(got, str) and got.strip().casefold() == expected.strip().casefold()


def _close(got: object, expected: float, tolerance: float) -> bool:
    if isinstance(got, bool) or not isinstance(got, int | float) or not math.isfinite(got):
        return False
    return abs(float(got) - expected) <= tolerance + 1e-9


def intent_reward(task: IntentTask, reply: str) -> float:
    """1 when ``intent`` names the task's label (case and surrounding spaces ignored)."""
    payload = final_json(reply)
    return float(payload is not None and _same_text(payload.get("intent"), task.answer))


def action_reward(task: ActionTask, reply: str) -> float:
    """Per-field credit: 0 for a wrong action, else (1 + correct slots) / (1 + expected slots).

    Text slots compare case-insensitively, numbers within ``task.tolerance``; extra keys are ignored.
    """
    payload = final_json(reply)
    if payload is None or not _same_text(payload.get("action"), task.answer.action):
        return 0.0
    slots = task.answer.slots
    correct = sum(
        _close(payload.get(name), value, task.tolerance)
        if isinstance(value, float)
        else _same_text(payload.get(name), value)
        for name, value in slots.items()
    )
    return (1 + correct) / (1 + len(slots))


def computation_reward(task: ComputationTask, reply: str) -> float:
    """1 when ``answer`` is within ``tolerance`` of the number, or of the date in days (ISO format)."""
    payload = final_json(reply)
    if payload is None:
        return 0.0
    got = payload.get("answer")
    if isinstance(task.answer, date):
        try:
            parsed = date.fromisoformat(got) if isinstance(got, str) else None
        except ValueError:
            parsed = None
        return float(parsed is not None and abs((parsed - task.answer).days) <= task.tolerance)
    return float(_close(got, task.answer, task.tolerance))


def citation_reward(task: CitationTask, reply: str) -> float:
    """1 when ``article`` is the doc_id of the article that answers."""
    payload = final_json(reply)
    return float(payload is not None and _same_text(payload.get("article"), task.answer))


def refusal_reward(task: RefusalTask, reply: str) -> float:
    """1 when ``refuse`` is the JSON boolean policy calls for (refuse what is forbidden, help otherwise)."""
    payload = final_json(reply)
    return float(payload is not None and payload.get("refuse") is task.answer)


BUILTIN_REWARDS: dict[TaskType, RewardFn] = {
    "intent": intent_reward,
    "action": action_reward,
    "computation": computation_reward,
    "citation": citation_reward,
    "refusal": refusal_reward,
}


class RewardScorer:
    """Scores replies with each task's verifier: the built-in one for its type, or the plugin it names.

    scorer = RewardScorer()                       # built-ins + installed reward plugins
    rewards = scorer.score(tasks, replies)         # one float in [0, 1] per pair
    """

    def __init__(self, plugins: PluginRegistry | None = None, default: str | None = None) -> None:
        """Args:
        plugins: where plugin rewards come from; the installed entry points when None.
        default: a plugin reward used for every task that names none (e.g. from the run config).
        """
        self._plugins = plugins
        self._default = default
        self._built: dict[str, RewardFn] = {}

    def _plugin(self, name: str) -> RewardFn:
        if name not in self._built:
            registry = self._plugins if self._plugins is not None else load_plugins()
            component = registry.build("reward", name)
            self._built[name] = component  # type: ignore[assignment]
        return self._built[name]

    def check(self, tasks: Sequence[RLTask]) -> None:
        """Build every reward plugin the tasks and the default name, so that a missing or broken one is
        said before hours of warm-up and sampling, not at the first reply scored.

        Raises:
            ConfigError: a named reward plugin is not installed or cannot be built.
        """
        names = {task.reward for task in tasks if task.reward} | ({self._default} if self._default else set())
        for name in sorted(names):
            self._plugin(name)

    def reward_fn(self, task: RLTask) -> RewardFn:
        name = task.reward or self._default
        return self._plugin(name) if name else BUILTIN_REWARDS[task.type]

    def score(self, tasks: Sequence[RLTask], replies: Sequence[str]) -> list[float]:
        """One reward in [0, 1] per (task, reply) pair.

        Raises:
            TrainingError: a reward plugin raised or returned something that is not a finite number.
        """
        rewards = []
        for task, reply in zip(tasks, replies, strict=True):
            fn = self.reward_fn(task)
            try:
                value = float(fn(task, reply))
            except ConfigError:
                raise
            except Exception as err:  # a partner's plugin can raise anything; name it and the task
                raise TrainingError(f"reward for task {task.id!r} failed: {err}") from err
            if not math.isfinite(value):
                raise TrainingError(f"reward for task {task.id!r} is {value}; rewards must be finite numbers")
            rewards.append(value)
        return rewards
