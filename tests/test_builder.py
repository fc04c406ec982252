"""Building a partner: intent model and index land where the workspace says, and rebuilds can be skipped."""

from pathlib import Path

import pytest

from naa.builder import build_partner
from naa.config.partner import load_partner_config
from naa.config.plugins import PluginComponentConfig
from naa.errors import NAAError
from naa.generation.config import TransformersGeneratorConfig
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


def test_what_a_build_needs_is_checked_before_anything_is_built(
    built_partner: tuple[Path, Path], tmp_path: Path
) -> None:
    """A missing plugin or folder used to be found after the intent model was trained, or not at all."""
    config = load_partner_config(built_partner[0])
    broken = [
        ({"retrieval": PluginComponentConfig(name="es")}, "no retriever plugin named 'es'"),
        (
            {"knowledge_base": config.knowledge_base.model_copy(update={"sources": [tmp_path / "gone"]})},
            "gone",
        ),
        (
            {"generation": TransformersGeneratorConfig(model=str(tmp_path / "no-model"))},
            "no-model does not exist",
        ),
    ]
    for update, message in broken:
        with pytest.raises(NAAError, match=message):
            build_partner(config.model_copy(update=update), Workspace(tmp_path / "data"))
        assert not (tmp_path / "data").exists()
