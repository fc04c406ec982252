"""What a run needs to resume exactly where it stopped: data order, weights, optimizer, RNG, metrics.

Layout of a run folder:

    metrics.jsonl                 one JSON object per step
    checkpoints/step-000010/      trainable.pt, optimizer.pt, rng.pt, state.json
    final/                        the trained model (save_pretrained), after the last step
    model_version.json            the manifest a model registry imports

A checkpoint is written into a temporary folder and renamed, so a run killed mid-write leaves only
complete checkpoints; resuming loads the newest one and drops metrics lines logged after it.
"""

import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from naa.atomic_files import replace_file
from naa.errors import TrainingError
from naa.model_dirs import atomic_model_dir

_PREFIX = "step-"


class DataOrder:
    """Endless, seeded order of task indices: a fresh permutation each epoch, resumable by position.

    The order is one sequence (epoch 0's permutation, then epoch 1's, ...). With several processes, process
    ``rank`` takes positions rank, rank + world, rank + 2 * world, ... and counts its own draws: a process
    that re-draws more prompts after filtering never shifts another's share, and no position is drawn twice.
    """

    def __init__(self, n_tasks: int, seed: int, rank: int = 0, world: int = 1) -> None:
        if n_tasks < 1:
            raise TrainingError(
                "the task file has no train tasks; generate some with `naa rl tasks generate`"
            )
        self.n_tasks, self.seed, self.rank, self.world = n_tasks, seed, rank, world
        self.taken = 0  # prompts this process has drawn
        self._epoch = -1
        self._perm: list[int] = []

    def _task_at(self, position: int) -> int:
        epoch, cursor = divmod(position, self.n_tasks)
        if epoch != self._epoch:
            order = list(range(self.n_tasks))
            random.Random(f"{self.seed}:{epoch}").shuffle(order)
            self._epoch, self._perm = epoch, order
        return self._perm[cursor]

    def draw(self, count: int) -> list[int]:
        first = self.taken
        self.taken += count
        return [self._task_at(k * self.world + self.rank) for k in range(first, self.taken)]

    def state_dict(self) -> dict[str, int]:
        """Epoch and cursor of this process's next position."""
        epoch, cursor = divmod(self.taken * self.world + self.rank, self.n_tasks)
        return {"epoch": epoch, "cursor": cursor}

    def load_state_dict(self, states: Sequence[dict[str, int]]) -> None:
        """Continue from ``states``, the ``state_dict()`` of every process of the run that saved them.

        With another number of processes than that run, every process continues after the furthest
        position saved (a few prompts of the epoch are skipped, none is repeated).
        """
        positions = [s["epoch"] * self.n_tasks + s["cursor"] for s in states]
        start = positions[self.rank] if len(states) == self.world else max(positions)
        self.taken = -(-(start - self.rank) // self.world)  # ceil: this process's first position >= start


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    state: dict[str, Any]


def rng_state() -> dict[str, Any]:
    """This process's Python, numpy, torch (and CUDA) random states."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    keep: int,
    rng_states: Sequence[dict[str, Any]] | None = None,
) -> Path:
    """Write checkpoint ``step`` (trainable weights only: LoRA checkpoints stay small); prune old ones.

    ``rng_states`` holds every process's ``rng_state()`` (rank order); None saves this process's.
    """
    target = run_dir / "checkpoints" / f"{_PREFIX}{step:06d}"
    with atomic_model_dir(target) as tmp:  # its staging folder's name does not start with _PREFIX
        trainable = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
        torch.save(trainable, tmp / "trainable.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(list(rng_states or [rng_state()]), tmp / "rng.pt")
        (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=2), encoding="utf-8")
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def weights_checksum(model: nn.Module) -> list[float]:
    """Sum and sum of squares of the trainable weights, the same on every data-parallel replica; each
    accumulates in float64 without a float64 copy of the weights."""
    total, squares = 0.0, 0.0
    for weight in (p.detach() for p in model.parameters() if p.requires_grad):
        total += weight.sum(dtype=torch.float64).item()
        squares += torch.linalg.vector_norm(weight, dtype=torch.float64).item() ** 2
    return [total, squares]


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith(_PREFIX) and (p / "state.json").is_file())


def load_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, rank: int = 0
) -> Checkpoint:
    """Restore weights, optimizer and process ``rank``'s RNG from ``path``; returns step and trainer state.

    A rank the saving run did not have keeps its own seeded RNG.
    """
    try:
        trainable = torch.load(path / "trainable.pt", map_location="cpu", weights_only=True)
        missing = set(trainable) - {n for n, p in model.named_parameters() if p.requires_grad}
        if missing:
            raise TrainingError(
                f"checkpoint {path} does not fit this model ({len(missing)} unknown weights, e.g. "
                f"{sorted(missing)[0]}): resume with the config that started the run, or use a new output_dir"
            )
        model.load_state_dict(trainable, strict=False)
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True))
        # Our own file, written by save_checkpoint: RNG states are pickled Python/numpy objects.
        rng = torch.load(path / "rng.pt", weights_only=False)
        rng = [rng] if isinstance(rng, dict) else rng  # older checkpoints hold one process's dict
        if rank < len(rng):
            _set_rng_state(rng[rank])
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, KeyError, ValueError, RuntimeError) as err:
        raise TrainingError(f"cannot resume from checkpoint {path}: {err}") from err
    return Checkpoint(path=path, step=int(state.pop("step")), state=state)


class MetricsLog:
    """``metrics.jsonl`` of a run: one line per step, appended and flushed as the step ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def truncate_after(self, step: int) -> None:
        """Drop lines of steps after ``step`` (logged after the checkpoint a resumed run starts from)."""
        kept = [r for r in self.read() if r["step"] <= step]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def write_json(path: Path, payload: dict[str, Any] | Sequence[Any]) -> None:
    """Write JSON, replacing the file whole."""
    replace_file(path, [json.dumps(payload, indent=2, default=str)])
