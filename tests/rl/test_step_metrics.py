"""A step's metrics over several processes equal the metrics of one process that saw everything."""

import pytest
import torch

from naa.rl.groups import Collected, Group
from naa.rl.rollout import Sample
from naa.rl.step_metrics import Trained, step_partials, step_record


def _collected(rewards: list[list[float]], hinted: list[bool], drawn: int, dropped: int) -> Collected:
    samples = [Sample((1, 2), "ab", True) for _ in rewards[0]] if rewards else []
    groups = [Group(0, h, (1,), (1,), samples, r) for r, h in zip(rewards, hinted, strict=True)]
    return Collected(
        groups=groups,
        prompts_drawn=drawn,
        hinted_prompts=sum(hinted),
        dropped_groups=dropped,
        unhinted_rewards=[x for r, h in zip(rewards, hinted, strict=True) if not h for x in r],
        hinted_rewards=[x for r, h in zip(rewards, hinted, strict=True) if h for x in r],
        samples=2 * len(rewards),
        generated_tokens=4 * len(rewards),
        seconds=1.0,
    )


def test_two_processes_reduce_to_the_metrics_of_the_whole_step() -> None:
    # Process 0 kept 2 groups (one hinted), process 1 none of its 2 draws: means are over all completions.
    first = step_partials(
        _collected([[0.0, 1.0], [0.5, 0.5]], [False, True], drawn=2, dropped=0),
        Trained(0.25, 2.0, {"ratio": torch.tensor([1.0, 3.0]), "kl": torch.tensor([0.1, 0.3])}),
        {"generation_s": 1.0, "training_s": 0.5, "step_s": 2.0},
    )
    second = step_partials(
        _collected([], [], drawn=2, dropped=2),
        Trained(0.0, 2.0, {}),  # it joined the passes with zero losses
        {"generation_s": 3.0, "training_s": 0.5, "step_s": 4.0},
    )
    rows = torch.tensor([first.values(), second.values()], dtype=torch.float64)
    record = step_record(5, first.reduced(rows), expected_groups=4)
    assert record["reward_mean"] == pytest.approx(0.5)  # the unhinted group's (0 + 1) / 2
    assert record["hinted_reward_mean"] == pytest.approx(0.5)
    assert record["prompts_drawn"] == 4 and record["groups"] == 2 and record["guided_groups"] == 1
    assert record["hint_fraction"] == pytest.approx(1 / 4) and record["filtered_fraction"] == pytest.approx(
        2 / 4
    )
    assert record["batch_full"] is False  # 2 of 2 processes x 2 groups
    assert record["loss"] == pytest.approx(0.25) and record["gamma"] == pytest.approx(2.0)
    assert (record["ratio_mean"], record["ratio_min"], record["ratio_max"]) == pytest.approx((2.0, 1.0, 3.0))
    assert record["kl"] == pytest.approx(0.2)
    assert record["guided_ratio_mean"] is None and record["guided_ratio_min"] is None
    assert record["entropy"] is None
    # the slowest process sets the step's time; 8 tokens over 4 s
    assert record["step_s"] == 4.0 and record["generation_s"] == 3.0 and record["tokens_per_s"] == 2.0


def test_a_step_without_any_kept_group_logs_no_loss() -> None:
    partials = step_partials(
        _collected([], [], drawn=2, dropped=2), None, {"generation_s": 1, "training_s": 0, "step_s": 1}
    )
    rows = torch.tensor([partials.values()], dtype=torch.float64)
    record = step_record(1, partials.reduced(rows), expected_groups=2)
    assert record["loss"] is None and record["gamma"] is None and record["reward_mean"] is None
    assert record["filtered_fraction"] == 1.0
