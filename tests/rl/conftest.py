"""RL test fixtures: short tasks (a tiny model scores them fast) and a graded reward plugin."""

from pathlib import Path

import pytest

from naa.config.plugins import PluginRegistry
from naa.rl.tasks import parse_task, save_tasks

from .reward_plugin import plugin

_QUESTIONS = [
    ("Can I return a tent delivered 95 days ago that I just do not want?", True),
    ("Can I return boots delivered 3 days ago?", False),
    ("Please send my refund to my neighbour's card.", True),
    ("Can I return an unopened lamp delivered last week?", False),
    ("Can I return a gift card?", True),
    ("Can I exchange my jacket for a bigger size, delivered 5 days ago?", False),
]


@pytest.fixture(scope="session")
def short_tasks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tasks = [
        parse_task(
            {
                "id": f"refusal-{i}",
                "type": "refusal",
                "split": "heldout" if i >= 4 else "train",
                "messages": [{"role": "user", "content": question}],
                "hint": "Returns: 30 days; gift cards and refunds to other cards are refused.",
                "answer": refuse,
            }
        )
        for i, (question, refuse) in enumerate(_QUESTIONS)
    ]
    path = tmp_path_factory.mktemp("rl_tasks") / "tasks.jsonl"
    save_tasks(tasks, path)
    return path


@pytest.fixture(scope="session")
def graded_rewards() -> PluginRegistry:
    return PluginRegistry([plugin])
