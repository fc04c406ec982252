"""Generated tasks: deterministic, valid, split per template, answers computed from the policies."""

import json
from datetime import date
from pathlib import Path

import pytest
from partner_fixture import INTENTS, write_partner

from naa.config.partner import load_partner_config
from naa.errors import ConfigError
from naa.rl.rewards import RewardScorer
from naa.rl.task_generator import TaskSources, generate_tasks
from naa.rl.task_templates import add_business_days, money
from naa.rl.tasks import ActionTask, ComputationTask, IntentTask


def test_same_seed_same_tasks_and_both_splits_cover_every_template() -> None:
    first = generate_tasks(TaskSources.demo(), per_template=10, seed=3)
    assert first == generate_tasks(TaskSources.demo(), per_template=10, seed=3)
    assert first != generate_tasks(TaskSources.demo(), per_template=10, seed=4)
    templates = {t.id.rsplit("-", 1)[0] for t in first}
    for split in ("train", "heldout"):
        assert {t.id.rsplit("-", 1)[0] for t in first if t.split == split} == templates
    assert len({t.id for t in first}) == len(first)


def test_reference_answer_in_the_answer_format_scores_one() -> None:
    tasks = generate_tasks(TaskSources.demo(), per_template=5, seed=0)
    replies = []
    for task in tasks:
        if isinstance(task, ActionTask):
            payload = {"action": task.answer.action, **task.answer.slots}
        else:
            key = {"intent": "intent", "computation": "answer", "citation": "article", "refusal": "refuse"}
            payload = {key[task.type]: task.answer}
        replies.append("```json\n" + json.dumps(payload, default=str) + "\n```")
    assert RewardScorer().score(tasks, replies) == [1.0] * len(tasks)


def test_refund_answers_follow_the_policy_formula() -> None:
    tasks = generate_tasks(TaskSources.demo(), per_template=40, seed=0)
    refunds = [t for t in tasks if t.id.startswith("refund_amount") and isinstance(t, ComputationTask)]
    # an opened 15%-fee electronics item mailed back for a change of mind: price - 15% - 6.95
    electronics = [
        t
        for t in refunds
        if "(electronics)" in t.messages[0].content
        and "opened and used" in t.messages[0].content
        and "by mail" in t.messages[0].content
        and "defective" not in t.messages[0].content
    ]
    assert electronics, "the draw should hold such a case at 40 tasks"
    for task in electronics:
        price = float(task.messages[0].content.split("I paid ")[1].split(" ")[0])
        assert task.answer == money(price - money(price * 0.15) - 6.95)


def test_business_days_skip_weekends_and_holidays() -> None:
    # Friday 2026-11-20 + 4 business days: Mon 23, Tue 24, Wed 25, (Thu 26 Thanksgiving), Fri 27
    assert add_business_days(date(2026, 11, 20), 4) == date(2026, 11, 27)


def test_abcd_tasks_come_from_the_guideline_sequences() -> None:
    sources = TaskSources.demo()
    assert sources.abcd_dir is not None and Path(sources.abcd_dir, "kb.json").is_file()
    abcd = [t for t in generate_tasks(sources, per_template=8, seed=0) if t.source.startswith("abcd:")]
    assert len(abcd) == 8
    for task in abcd:
        assert isinstance(task, ActionTask)
        assert task.answer.action in task.hint


def test_intent_tasks_hint_with_other_examples_of_the_label() -> None:
    sources = TaskSources.demo()
    assert sources.intents is not None
    intents = [t for t in generate_tasks(sources, per_template=12, seed=1) if isinstance(t, IntentTask)]
    assert len(intents) == 12
    for task in intents:
        assert task.answer in task.labels
        assert task.messages[0].content not in task.hint.split(": ", 1)[1].split("; ")


def test_a_partner_gets_intent_tasks_from_its_own_examples(tmp_path: Path) -> None:
    # The generator read only the demo's sources: a partner could not build tasks of its own.
    config_path = write_partner(tmp_path / "files", tmp_path / "no-model")
    tasks = generate_tasks(TaskSources.partner(load_partner_config(config_path)), per_template=8, seed=0)
    assert tasks and all(isinstance(t, IntentTask) for t in tasks)
    assert {t.answer for t in tasks} <= set(INTENTS) and {t.split for t in tasks} == {"train", "heldout"}


def test_a_policies_file_of_another_shape_is_one_error_naming_the_template(tmp_path: Path) -> None:
    config = load_partner_config(write_partner(tmp_path / "files", tmp_path / "no-model"))
    policies = tmp_path / "policies.yaml"
    policies.write_text("policies:\n  cancellation_window_hours: {value: 2, article: a.md}\n")
    with pytest.raises(ConfigError, match=r"does not fit the refund_amount template \(KeyError"):
        generate_tasks(TaskSources.partner(config, policies), per_template=2)
