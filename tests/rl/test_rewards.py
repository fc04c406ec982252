"""Verifiers against hand-written replies: the final JSON block format, each task type, plugins."""

import pytest

from naa.config.plugins import Plugin, PluginRegistry
from naa.errors import ConfigError, TrainingError
from naa.rl.rewards import RewardScorer, final_json
from naa.rl.tasks import RLTask, parse_task

USER = [{"role": "user", "content": "Help me."}]


def _task(**fields: object) -> RLTask:
    return parse_task({"id": "t", "messages": USER, "hint": "h", **fields})


def _reply(block: str) -> str:
    return f"Here you go.\n```json\n{block}\n```"


def test_final_json_takes_the_last_block_only_when_it_ends_the_reply() -> None:
    assert final_json(_reply('{"intent": "refund"}')) == {"intent": "refund"}
    two = '```json\n{"intent": "a"}\n```\nthen\n```json\n{"intent": "b"}\n```\n  '
    assert final_json(two) == {"intent": "b"}
    assert final_json(_reply('{"intent": "refund"}') + "\nAnything else?") is None  # text after the block
    assert final_json('{"intent": "refund"}') is None  # no fence
    assert final_json(_reply('["refund"]')) is None  # not an object
    assert final_json(_reply('{"intent": refund}')) is None  # not JSON


def test_format_error_scores_zero_for_every_type() -> None:
    tasks = [
        _task(type="intent", answer="refund", labels=["refund", "cancel"]),
        _task(type="citation", answer="returns/return-policy.md"),
        _task(type="refusal", answer=True),
    ]
    assert RewardScorer().score(tasks, ['{"intent": "refund"}'] * 3) == [0.0, 0.0, 0.0]


def test_intent_and_citation_compare_text_ignoring_case() -> None:
    intent = _task(type="intent", answer="refund", labels=["refund", "cancel"])
    citation = _task(type="citation", answer="returns/return-policy.md")
    scorer = RewardScorer()
    got = scorer.score(
        [intent, intent, citation, citation],
        [
            _reply('{"intent": " Refund "}'),
            _reply('{"intent": "cancel"}'),
            _reply('{"article": "returns/return-policy.md"}'),
            _reply('{"article": "returns/restocking-fees.md"}'),
        ],
    )
    assert got == [1.0, 0.0, 1.0, 0.0]


def test_action_gives_credit_per_slot_and_nothing_for_a_wrong_action() -> None:
    task = _task(type="action", answer={"action": "refund", "slots": {"order_id": "TB-1", "amount": 42.5}})
    replies = [
        _reply('{"action": "refund", "order_id": "TB-1", "amount": 42.504}'),  # all right (within 0.01)
        _reply('{"action": "refund", "order_id": "TB-1", "amount": 40}'),  # (1 + 1) / (1 + 2) = 2/3
        _reply('{"action": "refund"}'),  # (1 + 0) / 3 = 1/3
        _reply('{"action": "cancel_order", "order_id": "TB-1", "amount": 42.5}'),  # wrong action: 0
        _reply('{"action": "refund", "order_id": "TB-1", "amount": "42.5"}'),  # a string is not a number
    ]
    assert RewardScorer().score([task] * 5, replies) == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0, 2 / 3])


def test_computation_uses_tolerance_for_numbers_and_days_for_dates() -> None:
    amount = _task(type="computation", answer=113.05, tolerance=0.01)
    day = _task(type="computation", answer="2026-03-10", tolerance=0)
    replies = [
        _reply('{"answer": 113.06}'),  # 0.01 away: within
        _reply('{"answer": 113.07}'),  # 0.02 away: wrong
        _reply('{"answer": true}'),  # a boolean is not a number
        _reply('{"answer": "2026-03-10"}'),
        _reply('{"answer": "2026-03-11"}'),
        _reply('{"answer": "March 10"}'),
    ]
    got = RewardScorer().score([amount, amount, amount, day, day, day], replies)
    assert got == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_refusal_needs_the_json_boolean() -> None:
    forbidden = _task(type="refusal", answer=True)
    allowed = _task(type="refusal", answer=False)
    replies = [_reply('{"refuse": true}'), _reply('{"refuse": "true"}'), _reply('{"refuse": true}')]
    assert RewardScorer().score([forbidden, forbidden, allowed], replies) == [1.0, 0.0, 0.0]


def _length_reward(target: int) -> object:
    def reward(task: RLTask, reply: str) -> float:
        return 1.0 if len(reply) == target else 0.0

    return reward


def test_a_task_can_name_a_reward_plugin() -> None:
    registry = PluginRegistry([Plugin("partner", {"reward": {"short": lambda: _length_reward(2)}})])
    task = _task(type="refusal", answer=True, reward="short")
    assert RewardScorer(registry).score([task, task], ["ok", "no way"]) == [1.0, 0.0]
    with pytest.raises(ConfigError, match="no reward plugin named 'missing'"):
        RewardScorer(registry).score([_task(type="refusal", answer=True, reward="missing")], ["x"])


def test_a_failing_plugin_is_a_training_error_naming_the_task() -> None:
    def broken(task: RLTask, reply: str) -> float:
        raise KeyError("slot")

    registry = PluginRegistry([Plugin("partner", {"reward": {"broken": lambda: broken}})])
    with pytest.raises(TrainingError, match="task 't'"):
        RewardScorer(registry, default="broken").score([_task(type="refusal", answer=True)], ["x"])
