"""Data order and checkpoints: a resumed run sees the same prompts and weights it would have seen."""

from pathlib import Path

import pytest
import torch

from naa.errors import TrainingError
from naa.rl.run_state import (
    DataOrder,
    MetricsLog,
    list_checkpoints,
    load_checkpoint,
    rng_state,
    save_checkpoint,
)


def test_data_order_is_seeded_epoch_by_epoch_and_resumable() -> None:
    order = DataOrder(5, seed=7)
    first = order.draw(3) + order.draw(3)  # crosses into epoch 1 after 5 draws
    assert sorted(first[:5]) == [0, 1, 2, 3, 4] and order.state_dict() == {"epoch": 1, "cursor": 1}
    again = DataOrder(5, seed=7)
    assert again.draw(6) == first
    resumed = DataOrder(5, seed=7)
    resumed.load_state_dict([order.state_dict()])
    assert resumed.draw(4) == order.draw(4)


def test_data_order_splits_the_same_permutation_across_processes() -> None:
    whole = DataOrder(8, seed=1).draw(4)
    rank0, rank1 = (
        DataOrder(8, seed=1, rank=0, world=2).draw(2),
        DataOrder(8, seed=1, rank=1, world=2).draw(2),
    )
    assert rank0 == whole[0::2] and rank1 == whole[1::2]
    with pytest.raises(TrainingError, match="no train tasks"):
        DataOrder(0, seed=0)


def test_each_process_keeps_its_own_place_when_processes_draw_different_counts() -> None:
    # Filtering makes process 0 re-draw 3 prompts where process 1 re-draws 1: neither shifts the other.
    sequence = DataOrder(5, seed=3).draw(13)  # positions 0..12, epochs 0-2
    rank0, rank1 = DataOrder(5, seed=3, rank=0, world=2), DataOrder(5, seed=3, rank=1, world=2)
    assert rank0.draw(2) + rank0.draw(3) == sequence[0:10:2]
    assert rank1.draw(2) + rank1.draw(1) == sequence[1:6:2]
    # Each resumes from its own saved place (next positions 10 and 7) ...
    saved = [rank0.state_dict(), rank1.state_dict()]
    again = DataOrder(5, seed=3, rank=1, world=2)
    again.load_state_dict(saved)
    assert again.draw(1) == [sequence[7]]
    # ... and 3 processes resuming from 2 continue after the furthest (10): positions 12, 10 and 11.
    wider = [DataOrder(5, seed=3, rank=r, world=3) for r in range(3)]
    for order in wider:
        order.load_state_dict(saved)
    assert [order.draw(1)[0] for order in wider] == [sequence[12], sequence[10], sequence[11]]


def test_checkpoint_round_trip_restores_weights_optimizer_and_rng(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    saved_weight = model.weight.detach().clone()
    for step in (1, 2, 3):
        save_checkpoint(
            tmp_path, step, model, optimizer, {"data_order": {"epoch": 0, "cursor": step}}, keep=2
        )
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000002", "step-000003"]
    expected_draw = torch.rand(3)  # the RNG continues from the last checkpoint's state
    with torch.no_grad():
        model.weight.zero_()
    checkpoint = load_checkpoint(list_checkpoints(tmp_path)[-1], model, torch.optim.AdamW(model.parameters()))
    assert checkpoint.step == 3 and checkpoint.state == {"data_order": {"epoch": 0, "cursor": 3}}
    assert torch.equal(model.weight, saved_weight)
    assert torch.equal(torch.rand(3), expected_draw)


def test_each_process_resumes_its_own_rng_state(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters())
    torch.manual_seed(0)
    rank0 = rng_state()
    torch.manual_seed(1)
    rank1, after_rank1 = rng_state(), torch.rand(3)
    path = save_checkpoint(tmp_path, 1, model, optimizer, {}, keep=1, rng_states=[rank0, rank1])
    load_checkpoint(path, model, optimizer, rank=1)
    assert torch.equal(torch.rand(3), after_rank1)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    load_checkpoint(path, model, optimizer, rank=2)  # a process the saving run did not have: RNG untouched
    assert torch.equal(torch.rand(3), expected)


def test_metrics_log_drops_steps_after_the_checkpoint(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for step in (1, 2, 3):
        log.append({"step": step})
    log.truncate_after(2)
    assert [r["step"] for r in log.read()] == [1, 2]
