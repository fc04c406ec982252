"""Verifiable customer-service tasks: the JSONL task file format, validated by pydantic.

One task per line. ``type`` picks the schema of ``answer``; the verifier for each type is in ``rewards.py``.

    {"id": "refund-0001", "type": "computation", "split": "train",
     "messages": [{"role": "user", "content": "I opened the tent I bought for 120.00 ..."}],
     "context": [{"doc_id": "returns/restocking-fees.md", "text": "..."}],
     "hint": "refund = 120.00 - 0% restocking - 6.95 label fee", "answer": 113.05, "tolerance": 0.01}
"""

import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from naa.atomic_files import replace_file
from naa.config.validation import describe
from naa.errors import ConfigError

TaskType = Literal["intent", "action", "computation", "citation", "refusal"]
Split = Literal["train", "heldout"]


class TaskMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"] = Field(
        ..., description="Who said it; the system prompt is built apart."
    )
    content: str = Field(..., min_length=1, description="The turn's text.")


class Passage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str = Field(
        ..., min_length=1, description="Knowledge-base article id, the value a citation names."
    )
    text: str = Field(..., min_length=1, description="The passage shown to the model.")


class _TaskBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., min_length=1, description="Unique within a task file.")
    split: Split = Field("train", description="train tasks are trained on; heldout ones only evaluated.")
    messages: tuple[TaskMessage, ...] = Field(
        ..., min_length=1, description="The conversation, last turn user."
    )
    context: tuple[Passage, ...] = Field((), description="Retrieved passages shown with the conversation.")
    hint: str = Field(
        ..., min_length=1, description="Policy passage or outline shown only on guided samples."
    )
    reward: str | None = Field(None, description="A reward plugin's name replacing the built-in verifier.")
    source: str = Field("", description="Where the task comes from, e.g. policies:restocking_fee_pct.")

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, messages: tuple[TaskMessage, ...]) -> tuple[TaskMessage, ...]:
        if messages[-1].role != "user":
            raise ValueError("the last message must be the customer's (role user): the model answers it")
        return messages


class IntentTask(_TaskBase):
    type: Literal["intent"] = "intent"
    answer: str = Field(..., min_length=1, description="The intent label.")
    labels: tuple[str, ...] = Field(..., min_length=2, description="Labels the model chooses from.")


class ActionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = Field(..., min_length=1, description="Action name, e.g. refund.")
    slots: dict[str, str | float] = Field(default_factory=dict, description="Slots checked one by one.")


class ActionTask(_TaskBase):
    type: Literal["action"] = "action"
    answer: ActionAnswer
    tolerance: float = Field(0.01, ge=0, description="Absolute tolerance on numeric slots.")


class ComputationTask(_TaskBase):
    type: Literal["computation"] = "computation"
    answer: float | date = Field(..., description="A number (amount, fee, days) or an ISO date.")
    tolerance: float = Field(0.01, ge=0, description="Absolute tolerance: units of the number, or days.")
    unit: str = Field("", description="What the number counts (USD, business days); shown in the prompt.")


class CitationTask(_TaskBase):
    type: Literal["citation"] = "citation"
    answer: str = Field(..., min_length=1, description="doc_id of the article that answers the question.")


class RefusalTask(_TaskBase):
    type: Literal["refusal"] = "refusal"
    answer: bool = Field(..., description="True when policy forbids the request and the reply must refuse.")


RLTask = Annotated[
    IntentTask | ActionTask | ComputationTask | CitationTask | RefusalTask, Field(discriminator="type")
]
_TASK: TypeAdapter[RLTask] = TypeAdapter(RLTask)


def parse_task(data: object) -> RLTask:
    """Validate one task (a dict or a JSON string). Raises pydantic's ValidationError."""
    if isinstance(data, str | bytes):
        return _TASK.validate_json(data)
    return _TASK.validate_python(data)


def load_tasks(path: Path, split: Split | None = None) -> list[RLTask]:
    """Read a JSONL task file, optionally keeping one split.

    Raises:
        ConfigError: the file is missing or not UTF-8, a line is not a valid task (named by line number), ids
            repeat, or it holds no task of the split.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read task file {path}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"cannot read task file {path}: save it as UTF-8 text") from err
    tasks = [task for task in parse_tasks(text, str(path)) if split is None or task.split == split]
    if not tasks:
        raise ConfigError(f"task file {path} holds no {split or ''} tasks".replace("  ", " "))
    return tasks


def parse_tasks(text: str, source: str) -> list[RLTask]:
    """Validate a JSONL task file's text (blank lines skipped); ``source`` names the file in messages.

    Raises:
        ConfigError: a line is not a valid task (named as ``source:line``) or repeats an earlier task's id.
    """
    tasks: list[RLTask] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{source}:{number} is not JSON: {err.msg} (column {err.colno})") from err
        except RecursionError as err:  # a line of "[[[[..." (PUT /v1/training/tasks): it was a 500
            raise ConfigError(f"{source}:{number} is not a task: its JSON nests too deeply") from err
        try:
            task = parse_task(data)
        except ValidationError as err:
            raise ConfigError(f"{source}:{number} is not a valid task: {describe(err, data)}") from err
        if task.id in seen:
            raise ConfigError(f"{source}:{number} repeats task id {task.id!r}; ids must be unique")
        seen.add(task.id)
        tasks.append(task)
    return tasks


def save_tasks(tasks: Iterable[RLTask], path: Path) -> None:
    """Write tasks as JSONL, replacing the file whole."""
    replace_file(path, (task.model_dump_json(exclude_defaults=False) + "\n" for task in tasks))


def task_counts(tasks: Sequence[RLTask]) -> dict[str, int]:
    """Tasks per ``type/split``, for the CLI summary."""
    counts: dict[str, int] = {}
    for task in tasks:
        key = f"{task.type}/{task.split}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
