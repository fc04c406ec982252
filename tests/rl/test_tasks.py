"""The JSONL task format: validation, round trip, and the errors a user sees."""

import os
from pathlib import Path

import pytest

from naa.errors import ConfigError
from naa.rl.prompts import task_messages
from naa.rl.tasks import ComputationTask, load_tasks, parse_task, save_tasks

BASE = {"id": "t1", "messages": [{"role": "user", "content": "How much?"}], "hint": "price - fee"}


def test_round_trip_through_jsonl(tmp_path: Path) -> None:
    tasks = [
        parse_task({**BASE, "type": "computation", "answer": 12.5, "unit": "USD"}),
        parse_task({**BASE, "id": "t2", "type": "computation", "answer": "2026-03-10", "split": "heldout"}),
        parse_task({**BASE, "id": "t3", "type": "action", "answer": {"action": "cancel_order"}}),
    ]
    path = tmp_path / "tasks.jsonl"
    save_tasks(tasks, path)
    assert load_tasks(path) == tasks
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file the user writes (mkstemp gave 0600)
    assert [t.id for t in load_tasks(path, split="heldout")] == ["t2"]
    assert isinstance(tasks[0], ComputationTask)


def test_invalid_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"id": "a", "type": "refusal", "answer": true, "hint": "h", "messages": []}\n')
    with pytest.raises(ConfigError, match=r"tasks.jsonl:1 is not a valid task"):
        load_tasks(path)


def test_unknown_type_extra_field_and_repeated_id_fail(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        parse_task({**BASE, "type": "poem", "answer": "x"})
    with pytest.raises(ValueError):
        parse_task({**BASE, "type": "refusal", "answer": True, "difficulty": 3})
    with pytest.raises(ValueError, match="last message must be the customer's"):
        parse_task(
            {**BASE, "type": "refusal", "answer": True, "messages": [{"role": "assistant", "content": "x"}]}
        )
    line = parse_task({**BASE, "type": "refusal", "answer": True}).model_dump_json()
    path = tmp_path / "tasks.jsonl"
    path.write_text(line + "\n" + line + "\n")
    with pytest.raises(ConfigError, match="repeats task id 't1'"):
        load_tasks(path)


def test_hinted_prompt_differs_from_the_plain_one_only_by_the_hint() -> None:
    task = parse_task({**BASE, "type": "computation", "answer": 1.0, "unit": "USD"})
    plain, hinted = task_messages(task, with_hint=False), task_messages(task, with_hint=True)
    assert hinted[0]["content"] == plain[0]["content"] + "\n\nHint: price - fee"
    assert hinted[1:] == plain[1:] == [{"role": "user", "content": "How much?"}]
    assert '{"answer":' in plain[0]["content"]


def test_a_missing_or_unknown_type_is_said_plainly(tmp_path: Path) -> None:
    base = '"id": "a", "answer": true, "hint": "h", "messages": [{"role": "user", "content": "q"}]'
    path = tmp_path / "tasks.jsonl"
    path.write_text(f"{{{base}}}\n")
    with pytest.raises(ConfigError, match=r"tasks.jsonl:1 is not a valid task: type: Field required$"):
        load_tasks(path)
    path.write_text(f'{{{base}, "type": "poem"}}\n')
    with pytest.raises(ConfigError, match=r"type 'poem' is not one of 'intent', 'action', 'computation'"):
        load_tasks(path)
