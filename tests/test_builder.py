"""Building a partner: intent model and index land where the workspace says, and rebuilds can be skipped."""

from pathlib import Path

from naa.builder import build_partner
from naa.config.partner import load_partner_config
from naa.config.plugins import PluginComponentConfig
from naa.retrieval import KnowledgeBase
from naa.workspace import Workspace


def test_build_writes_intent_model_and_index_then_skips_them_when_asked(
    built_partner: tuple[Path, Path],
) -> None:
    config_path, data_dir = built_partner
    config = load_partner_config(config_path)
    workspace = Workspace(data_dir)

    assert any(workspace.intent_dir("acme").iterdir())
    kb = KnowledgeBase(workspace.kb_dir("acme"), config.retrieval)
    assert sorted(d.doc_id for d in kb.documents()) == ["giftcards.md", "returns.md", "shipping.md"]

    progress: list[float] = []
    ran = build_partner(
        config, workspace, lambda fraction, message: progress.append(fraction), missing_only=True
    )

    assert ran == ["generator"]
    assert progress[-1] == 1.0


def test_plugin_slots_are_left_to_their_packages(built_partner: tuple[Path, Path], tmp_path: Path) -> None:
    config = load_partner_config(built_partner[0]).model_copy(
        update={"intent": PluginComponentConfig(name="rules"), "retrieval": PluginComponentConfig(name="es")}
    )

    ran = build_partner(config, Workspace(tmp_path))

    assert ran == ["generator"]
    assert not Workspace(tmp_path).intent_dir("acme").exists()
