"""`naa ask`, `naa chat` and `naa build` as a user runs them."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from naa.cli import app
from naa.config.settings import NAASettings
from naa.storage import partners
from naa.storage.model_versions import register_model_version
from naa.storage.models import ModelKind
from naa.storage.session import database_session

runner = CliRunner()


@pytest.fixture
def env(built_partner: tuple[Path, Path]) -> dict[str, str]:
    return {"NAA_DATA_DIR": str(built_partner[1])}


def test_ask_streams_a_cited_answer(built_partner: tuple[Path, Path], env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ask", "how much is shipping?", "--partner", str(built_partner[0])], env=env)

    assert result.exit_code == 0, result.output
    assert "intent: shipping_cost" in result.output
    assert "[1] Shipping rates (shipping.md) https://help.example/shipping" in result.output
    assert "(cut at the 12-token limit)" in result.output  # the tiny random model never ends on its own


def test_chat_keeps_the_conversation_until_an_empty_line(
    built_partner: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = runner.invoke(
        app,
        ["chat", "--partner", str(built_partner[0])],
        input="hello\nI want to file a complaint\n\n",
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "Hello! How can I help?" in result.output
    assert "handed off to a human agent" in result.output


def test_ask_without_built_models_says_what_to_run(built_partner: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ask", "hi", "--partner", str(built_partner[0])], env={"NAA_DATA_DIR": str(tmp_path)}
    )

    assert result.exit_code == 1
    assert "is not built yet" in result.output and "naa build" in result.output
    assert "Traceback" not in result.output


def test_build_reports_the_stages_it_ran(built_partner: tuple[Path, Path], env: dict[str, str]) -> None:
    result = runner.invoke(app, ["build", "--partner", str(built_partner[0])], env=env)

    assert result.exit_code == 0, result.output
    assert "built acme: generator" in result.output


def test_bad_partner_file_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "partner.yaml"
    bad.write_text("id: acme\nname: Acme\nintnet: {}\n", encoding="utf-8")

    result = runner.invoke(app, ["ask", "hi", "--partner", str(bad)])

    assert result.exit_code == 1
    assert "intnet" in result.output


def test_a_partner_file_can_name_a_registered_generator_version(
    built_partner: tuple[Path, Path], env: dict[str, str], tiny_lm_dir: Path, tmp_path: Path
) -> None:
    # The README offers generation.model: "version:<name>"; the CLI took it for a hub id and failed.
    config_path, data_dir = built_partner
    raw = yaml.safe_load(config_path.read_text())
    raw["generation"] = {**raw.get("generation", {}), "model": "version:tuned"}
    versioned = config_path.with_name("versioned.yaml")
    versioned.write_text(yaml.safe_dump(raw))
    unregistered = runner.invoke(app, ["ask", "how much is shipping?", "--partner", str(versioned)], env=env)
    assert unregistered.exit_code == 1
    assert "names 'version:tuned', which is not registered" in " ".join(unregistered.output.split())

    with database_session(NAASettings(data_dir=data_dir).resolved_database_url()) as session:
        if raw["id"] not in [p.id for p in partners.list_partners(session)]:
            partners.create_partner(session, raw["id"], raw["name"])
        register_model_version(session, raw["id"], ModelKind.GENERATOR, "tuned", tiny_lm_dir)
    answered = runner.invoke(app, ["ask", "how much is shipping?", "--partner", str(versioned)], env=env)
    assert answered.exit_code == 0, answered.output
    assert "[1] Shipping rates (shipping.md)" in answered.output
