"""Building a partner: intent model and index land where the workspace says, and rebuilds can be skipped."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dists import install_dist

from naa.builder import build_partner
from naa.config.partner import load_partner_config
from naa.config.plugins import PluginComponentConfig, PluginRef, load_plugins
from naa.errors import ConfigError, NAAError
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


FOOTER_MODULE = """
from naa.config.plugins import Plugin


class Footer:
    \"\"\"A post-processor that forgot its process method.\"\"\"

    def __init__(self, text="--"):
        self.text = text


plugin = Plugin("footer", {"postprocessor": {"footer": Footer}})
"""

EXAMPLE_SRC = Path(__file__).parents[1] / "examples" / "plugin-order-lookup" / "src"


@pytest.fixture
def plugins_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example plugin package and a faulty footer plugin, installed as pip would (a dist-info)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "footer_plugin.py").write_text(FOOTER_MODULE, encoding="utf-8")
    install_dist(
        site, "footer_plugin", {"footer": "footer_plugin:plugin", "order-lookup": "naa_order_lookup:plugin"}
    )
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(site))
    load_plugins.cache_clear()
    yield
    load_plugins.cache_clear()


def test_each_plugin_is_built_with_its_options_before_anything_is_built(
    built_partner: tuple[Path, Path], tmp_path: Path, plugins_installed: None
) -> None:
    """Only the plugin names were checked: a wrong option or a missing method built the partner, and
    every question to it then failed."""
    config = load_partner_config(built_partner[0])
    broken = [
        (
            {"postprocessors": [PluginRef(name="signature", options={"colour": "red"})]},
            r"^postprocessors\.0: options of the postprocessor 'signature' from plugin 'order-lookup' "
            r"are wrong: .*unexpected keyword argument 'colour'",
        ),
        (
            {"postprocessors": [PluginRef(name="footer")]},
            r"^postprocessors\.0: the postprocessor 'footer' from plugin 'footer' lacks process",
        ),
        (
            {
                "tools": [
                    PluginRef(name="order_lookup"),
                    PluginRef(name="order_lookup", options={"orders_file": str(tmp_path / "none.json")}),
                ]
            },
            r"^tools\.1: the tool 'order_lookup' from plugin 'order-lookup' failed to build: "
            r".*none.json does not exist",
        ),
    ]
    for update, message in broken:
        with pytest.raises(ConfigError, match=message):
            build_partner(config.model_copy(update=update), Workspace(tmp_path / "data"))
        assert not (tmp_path / "data").exists()


def test_a_plugin_error_names_the_field_of_the_partner_file(
    built_partner: tuple[Path, Path], tmp_path: Path, plugins_installed: None
) -> None:
    """ "no tool plugin named 'order_lookp'" did not say where the partner file names it."""
    config = load_partner_config(built_partner[0])
    broken = [
        ({"tools": [PluginRef(name="order_lookp")]}, r"^tools\.0: no tool plugin named 'order_lookp'"),
        ({"retrieval": PluginComponentConfig(name="es")}, r"^retrieval: no retriever plugin named 'es'"),
        ({"intent": PluginComponentConfig(name="rules")}, r"^intent: no intent_classifier plugin named"),
    ]
    for update, message in broken:
        with pytest.raises(ConfigError, match=message):
            build_partner(config.model_copy(update=update), Workspace(tmp_path / "data"))


def test_a_partner_without_intent_examples_is_told_how_to_give_them(
    built_partner: tuple[Path, Path], tmp_path: Path
) -> None:
    config = load_partner_config(built_partner[0])
    intent = config.builtin_intent().model_copy(update={"examples": None})
    with pytest.raises(
        ConfigError, match=r"no intent\.examples file .*: set intent\.examples to a YAML file"
    ):
        build_partner(config.model_copy(update={"intent": intent}), Workspace(tmp_path / "data"))
