"""`naa eval intent` on a real data set: a quick run on a slice of the training split."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from naa.cli import app


@pytest.mark.slow
def test_eval_intent_on_clinc150_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "intent",
            "--dataset",
            "clinc150",
            "--limit-train",
            "600",
            "--epochs",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "out-of-scope recall" in result.output
    saved = json.loads(out.read_text())
    assert saved["dataset"] == "clinc150"
    assert saved["metrics"]["oos_recall"] is not None
    assert saved["metrics"]["accuracy"] > 0.5


def test_eval_intent_with_a_wrong_data_dir_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "intent", "--dataset", "banking77", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "--data-dir" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_eval_intent_refuses_an_unknown_dataset() -> None:
    result = CliRunner().invoke(app, ["eval", "intent", "--dataset", "snips"])
    assert result.exit_code != 0
