"""Plugin loading through real entry points: a dist-info written on sys.path, as pip would install it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dists import install_dist

from naa.config.plugins import (
    Plugin,
    PluginComponentConfig,
    PluginRef,
    PluginRegistry,
    apply_postprocessors,
    load_plugins,
)
from naa.errors import ConfigError

EXAMPLE_SRC = Path(__file__).resolve().parents[2] / "examples" / "plugin-order-lookup" / "src"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(tmp_path))
    load_plugins.cache_clear()
    yield tmp_path
    load_plugins.cache_clear()


def test_load_plugins_finds_the_example_package_by_its_entry_point(site: Path) -> None:
    install_dist(site, "naa_order_lookup", {"order-lookup": "naa_order_lookup:plugin"})
    registry = load_plugins()
    assert registry.names("tool") == ["order_lookup"]
    assert registry.names("postprocessor") == ["signature"]
    tool = registry.build_ref("tool", PluginRef(name="order_lookup"))
    assert tool.run({"order_id": "A1002"}).data["status"] == "processing"
    signature = registry.build_ref(
        "postprocessor", PluginRef(name="signature", options={"signature": "-- Acme"})
    )
    assert apply_postprocessors([signature], "Hi.", intent="greet", action="smalltalk") == "Hi.\n\n-- Acme"


BROKEN_MODULE = 'raise RuntimeError("boom at import")\n'

# Records its import in a file beside it, so a test can tell whether an entry point was imported.
RECORDING_MODULE = """
from pathlib import Path

from naa.config.plugins import Plugin

Path(__file__).with_name("recording_plugin.imported").touch()


class Footer:
    def __init__(self, text="--"):
        self.text = text

    def process(self, reply, *, intent, action):
        return reply + self.text


plugin = Plugin("recording", {"postprocessor": {"footer": Footer}})
"""


def test_entry_points_are_imported_only_when_a_component_is_looked_up(site: Path) -> None:
    """load_plugins() imported every installed plugin, so a partner naming none still imported them all."""
    (site / "recording_plugin.py").write_text(RECORDING_MODULE)
    install_dist(site, "recording_plugin", {"recording": "recording_plugin:plugin"})
    registry = load_plugins()
    assert not (site / "recording_plugin.imported").exists()
    registry.build_ref("postprocessor", PluginRef(name="footer"))
    assert (site / "recording_plugin.imported").exists()


def test_a_plugin_that_fails_to_import_fails_only_the_names_it_may_provide(site: Path) -> None:
    """A broken package made load_plugins() raise, for every partner; now it fails only lookups that the
    plugins that load cannot answer, and those name it, with the plugins that did load."""
    (site / "broken_plugin.py").write_text(BROKEN_MODULE)
    install_dist(site, "broken_plugin", {"broken": "broken_plugin:plugin"})
    install_dist(site, "naa_order_lookup", {"order-lookup": "naa_order_lookup:plugin"})
    registry = load_plugins()
    signature = registry.build_ref("postprocessor", PluginRef(name="signature"))
    assert signature.process("Hi.", intent="greet", action="smalltalk").endswith("-- Your support team")
    assert registry.names("tool") == ["order_lookup"]
    with pytest.raises(
        ConfigError,
        match=r"no postprocessor plugin named 'footer' \(available: signature\); "
        r"it may be in one that failed: "
        r"plugin entry point 'broken' \(broken_plugin:plugin\) failed to load: boom at import$",
    ):
        registry.build_ref("postprocessor", PluginRef(name="footer"))


def test_an_entry_point_that_is_not_a_plugin_is_refused_when_looked_up(site: Path) -> None:
    install_dist(site, "odd_plugin", {"odd": "naa_order_lookup:OrderLookupTool.description"})
    registry = load_plugins()
    with pytest.raises(ConfigError, match=r"must name a naa.config.plugins.Plugin, got str"):
        registry.require("tool", "order_lookup")


def test_plugins_clashing_on_a_name_fail_only_that_name(site: Path) -> None:
    install_dist(site, "naa_order_lookup", {"order-lookup": "naa_order_lookup:plugin"})
    (site / "copy_plugin.py").write_text(
        "from naa.config.plugins import Plugin\nfrom naa_order_lookup import OrderLookupTool\n"
        'plugin = Plugin("copy", {"tool": {"order_lookup": OrderLookupTool}})\n'
    )
    install_dist(site, "copy_plugin", {"copy": "copy_plugin:plugin"})
    registry = load_plugins()
    registry.require("postprocessor", "signature")
    with pytest.raises(ConfigError, match="both register the tool 'order_lookup'"):
        registry.require("tool", "order_lookup")


class _NotAClassifier:
    def warm_up(self) -> None:
        """Loads nothing: the test checks the registry, not a model."""


def test_a_component_lacking_its_protocol_methods_fails_when_built() -> None:
    registry = PluginRegistry([Plugin("p", {"intent_classifier": {"keywords": _NotAClassifier}})])
    with pytest.raises(ConfigError, match="lacks predict"):
        registry.build_ref("intent_classifier", PluginComponentConfig(name="keywords"))


def test_unknown_names_wrong_options_and_clashes_are_config_errors(site: Path) -> None:
    from naa_order_lookup import plugin

    registry = PluginRegistry([plugin])
    with pytest.raises(ConfigError, match=r"no tool plugin named 'refund' \(available: order_lookup\)"):
        registry.build("tool", "refund")
    with pytest.raises(ConfigError, match="options of the tool 'order_lookup'"):
        registry.build("tool", "order_lookup", {"colour": "red"})
    with pytest.raises(
        ConfigError, match=r"the tool 'order_lookup' from plugin 'order-lookup' failed to build: "
    ):
        registry.build("tool", "order_lookup", {"orders_file": "no-such-orders.json"})
    with pytest.raises(ConfigError, match="both register the tool 'order_lookup'"):
        PluginRegistry([plugin, Plugin("copy", plugin.components)])
    with pytest.raises(ConfigError, match="unknown component kind 'widget'"):
        PluginRegistry([Plugin("p", {"widget": {}})])  # type: ignore[dict-item]


def test_plugin_component_config_is_strict_about_keys() -> None:
    config = PluginComponentConfig.model_validate({"backend": "plugin", "name": "k", "options": {"n": 2}})
    assert config.options == {"n": 2}
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        PluginComponentConfig.model_validate({"name": "k", "option": {}})
