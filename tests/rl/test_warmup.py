"""The supervised warm-up: demonstrations earn full reward, it learns them, it writes a model whole."""

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from naa.cli.rl import app
from naa.errors import ConfigError, ModelUnavailableError, TrainingError
from naa.rl.policy import load_causal_lm
from naa.rl.rewards import RewardScorer
from naa.rl.task_generator import TaskSources, generate_tasks
from naa.rl.tasks import load_tasks
from naa.rl.warmup import demonstration, warm_up


def test_every_demonstration_earns_its_tasks_full_reward() -> None:
    tasks = generate_tasks(TaskSources.demo(), per_template=4, seed=0)
    assert {t.type for t in tasks} == {"intent", "action", "computation", "citation", "refusal"}
    rewards = RewardScorer().score(tasks, [demonstration(t) for t in tasks])
    assert rewards == [1.0] * len(tasks)


def test_warm_up_learns_the_demonstrations_and_saves_a_loadable_model(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    tasks = load_tasks(short_tasks_file, split="train")
    out = tmp_path / "warm"
    result = warm_up(str(tiny_lm_dir), tasks, out, steps=12, batch_size=len(tasks), lr=3e-3, device="cpu")
    assert len(result.losses) == 12
    assert result.losses[-1] < 0.5 * result.losses[0]  # the same four replies, seen twelve times
    _, tokenizer = load_causal_lm(str(out), "float32")
    assert tokenizer.chat_template
    assert [p.name for p in tmp_path.iterdir()] == ["warm"]  # no staging folder left behind


def test_a_diverging_warm_up_stops_with_a_message_and_writes_nothing(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    out = tmp_path / "warm"
    tasks = load_tasks(short_tasks_file, split="train")
    with pytest.raises(TrainingError, match=r"warm-up diverged at step 2 .*lower the learning rate"):
        warm_up(str(tiny_lm_dir), tasks, out, steps=3, batch_size=len(tasks), lr=float("inf"), device="cpu")
    assert not out.exists()


def test_a_missing_model_leaves_the_earlier_output_as_it_was(tmp_path: Path, short_tasks_file: Path) -> None:
    out = tmp_path / "warm"
    out.mkdir()
    (out / "config.json").write_text("{}")  # an earlier warm-up's model
    with pytest.raises(ModelUnavailableError):
        warm_up(str(tmp_path / "nowhere"), load_tasks(short_tasks_file, split="train"), out, steps=1)
    assert [p.name for p in tmp_path.iterdir()] == ["warm"]
    assert (out / "config.json").read_text() == "{}"


def test_a_folder_of_other_files_is_never_replaced(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds no model"):
        warm_up(str(tiny_lm_dir), load_tasks(short_tasks_file, split="train"), tmp_path, steps=1)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_cli_warmup_writes_the_model_and_reports_the_loss(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "warm"
    args = ["warmup", "--tasks", str(short_tasks_file), "--out", str(out), "--model", str(tiny_lm_dir)]
    result = CliRunner().invoke(app, [*args, "--steps", "2", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "loss" in result.output and (out / "config.json").is_file()
    missing = CliRunner().invoke(app, ["warmup", "--tasks", str(tmp_path / "none.jsonl"), "--out", str(out)])
    assert missing.exit_code == 1 and "cannot read task file" in missing.output


def test_a_model_with_nan_weights_is_refused_at_load_in_one_line(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    model, tokenizer = load_causal_lm(str(tiny_lm_dir), "float32")
    with torch.no_grad():
        model.get_submodule("model.layers.1.mlp.down_proj").weight[0, 0] = float("nan")
    diverged = tmp_path / "diverged"
    model.save_pretrained(diverged)
    tokenizer.save_pretrained(diverged)
    args = [
        "warmup",
        "--tasks",
        str(short_tasks_file),
        "--out",
        str(tmp_path / "warm"),
        "--model",
        str(diverged),
    ]
    result = CliRunner().invoke(app, [*args, "--steps", "1"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # rich wraps the line at the terminal's width
    assert "NaN or infinite weights in 1 tensors (first: model.layers.1.mlp.down_proj.weight)" in said
    assert "Traceback" not in result.output and not (tmp_path / "warm").exists()
