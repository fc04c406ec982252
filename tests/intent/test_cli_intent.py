"""`naa intent train` and `naa intent predict` run end to end on a tiny partner."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dists import installed_plugin
from typer.testing import CliRunner

from naa.cli import app

EXAMPLES = """\
track_order: [where is my order, track my package, has my parcel shipped, when will my order arrive]
return_item: [I want to return this, how do I send an item back, return a jacket, start a return]
reset_password: [I forgot my password, reset my password, cannot log in to my account, change password]
"""


def _partner(tmp_path: Path) -> Path:
    (tmp_path / "intents.yaml").write_text(EXAMPLES, encoding="utf-8")
    partner = tmp_path / "partner.yaml"
    partner.write_text(
        "id: shop\nname: Shop\nintent:\n  examples: intents.yaml\n  epochs: 4\n  batch_size: 6\n",
        encoding="utf-8",
    )
    return partner


def test_train_then_predict(tmp_path: Path) -> None:
    runner = CliRunner()
    partner = _partner(tmp_path)
    model_dir = tmp_path / "model"
    trained = runner.invoke(app, ["intent", "train", "--partner", str(partner), "--out", str(model_dir)])
    assert trained.exit_code == 0, trained.output
    assert "trained 3 intents on 12 examples" in trained.output
    predicted = runner.invoke(
        app,
        [
            "intent",
            "predict",
            "where is my parcel?",
            "--partner",
            str(partner),
            "--model-dir",
            str(model_dir),
        ],
    )
    assert predicted.exit_code == 0, predicted.output
    assert "track_order" in predicted.output


def test_predict_without_a_model_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "intent",
            "predict",
            "hi",
            "--partner",
            str(_partner(tmp_path)),
            "--model-dir",
            str(tmp_path / "none"),
        ],
    )
    assert result.exit_code == 1
    assert "naa intent train" in " ".join(result.output.split())  # rich wraps long lines
    assert "Traceback" not in result.output


def test_train_with_a_bad_examples_file_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("only_one: [hello, hi]\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "intent",
            "train",
            "--partner",
            str(_partner(tmp_path)),
            "--examples",
            str(bad),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "single intent" in " ".join(result.output.split())


def test_train_never_replaces_a_folder_that_holds_no_model(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    result = CliRunner().invoke(
        app, ["intent", "train", "--partner", str(_partner(tmp_path)), "--out", str(project)]
    )
    assert result.exit_code == 1
    assert "holds no model" in " ".join(result.output.split())
    assert [p.name for p in project.iterdir()] == ["notes.txt"]


RULES_PLUGIN = """
from naa.config.plugins import Plugin
from naa.intent.base import IntentPrediction, IntentScore


class Rules:
    def __init__(self, rules):
        self.rules = rules

    def warm_up(self):
        pass

    def predict(self, utterances):
        predictions = []
        for text in utterances:
            label = next(label for word, label in self.rules.items() if word in text)
            predictions.append(IntentPrediction(label, 1.0, False, (IntentScore(label, 1.0),)))
        return predictions


plugin = Plugin("rules", {"intent_classifier": {"rules": Rules}})
"""


@pytest.fixture
def rules_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A classifier plugin installed as pip would (a dist-info on sys.path)."""
    with installed_plugin(tmp_path / "site", monkeypatch, "rules_plugin", RULES_PLUGIN):
        yield


def test_predict_uses_the_partners_plugin_classifier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules_plugin: None
) -> None:
    # It said "classifies intents with the plugin 'rules'; train it with that plugin's own tools".
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    partner = tmp_path / "partner.yaml"
    partner.write_text(
        "id: shop\nname: Shop\nintent:\n  backend: plugin\n  name: rules\n"
        "  options: {rules: {meter: meter_reading, gas: gas_emergency}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["intent", "predict", "I smell gas", "--partner", str(partner)])
    assert result.exit_code == 0, result.output
    assert "intent: gas_emergency" in result.output
