"""Partner plugins: components that installed packages add through the entry-point group ``naa.plugins``.

A partner package adds components without editing NAA. Its pyproject names a :class:`Plugin` object:

    [project.entry-points."naa.plugins"]
    order-lookup = "naa_order_lookup:plugin"

and the plugin maps component names to factories, per kind. A partner file then refers to a component by
name with the options its factory takes (``PluginRef``); for a slot that has built-in backends (intent
classifier, retriever, generator) the reference carries ``backend: plugin`` (``PluginComponentConfig``).
Entry points are read once per process and imported when a partner first names a component, so a broken
plugin fails the partners that use it (with its entry point named), not every partner.
"""

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Literal, Protocol, overload

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from naa.errors import ConfigError

if TYPE_CHECKING:
    from naa.generation.base import Generator
    from naa.intent.base import IntentClassifier
    from naa.retrieval.base import Retriever

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "naa.plugins"

ComponentKind = Literal["intent_classifier", "retriever", "generator", "reward", "tool", "postprocessor"]

# The methods each kind must have: checked on every built component, so a plugin that does not satisfy
# its Protocol fails when the partner loads, not at the first customer turn.
_REQUIRED_METHODS: dict[ComponentKind, tuple[str, ...]] = {
    "intent_classifier": ("warm_up", "predict"),
    "retriever": ("warm_up", "search"),
    "generator": ("warm_up", "generate", "stream"),
    "reward": ("__call__",),
    "tool": ("run",),
    "postprocessor": ("process",),
}

ToolValue = str | int | float | bool | None


@dataclass(frozen=True)
class ToolResult:
    ok: bool  # False when the tool ran but found nothing (unknown order id), so the reply can say so
    content: str  # one line for the conversation or the agent's screen
    data: Mapping[str, ToolValue] = field(default_factory=dict)


class Tool(Protocol):
    """An action the assistant or the agent can take, e.g. looking up an order."""

    name: str
    description: str

    def run(self, arguments: Mapping[str, ToolValue]) -> ToolResult: ...


class PostProcessor(Protocol):
    """Rewrites a finished reply (append a signature, mask numbers) before it reaches the customer."""

    def process(self, reply: str, *, intent: str, action: str) -> str: ...


RewardFunction = Callable[..., float]


@dataclass(frozen=True)
class Plugin:
    """What one partner package adds: component factories by kind, each under a name.

    >>> plugin = Plugin("order-lookup", {"tool": {"order_lookup": OrderLookupTool}})
    >>> registry = PluginRegistry([plugin])
    >>> registry.build("tool", "order_lookup", {"orders_file": "orders.json"})
    """

    name: str
    components: Mapping[ComponentKind, Mapping[str, Callable[..., object]]] = field(default_factory=dict)


class PluginRef(BaseModel):
    """A partner file's reference to one plugin component, with the keyword options of its factory."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, description="Component name the plugin registers.")
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Keyword arguments of its factory."
    )


class PluginComponentConfig(PluginRef):
    """A component slot (intent, retrieval, generation) filled by a plugin instead of a built-in backend."""

    backend: Literal["plugin"] = "plugin"


class PluginRegistry:
    """The components of a set of plugins, looked up by kind and name.

    Installed plugins come as entry points, imported on the first lookup (``require``, ``build``,
    ``names``), so a partner that names no plugin never imports one. An entry point that fails to import,
    or names no valid :class:`Plugin`, is set aside with its error: it breaks only lookups of names no
    other plugin provides, and those errors name it.
    """

    def __init__(self, plugins: Sequence[Plugin] = (), entry_points: Sequence[EntryPoint] = ()) -> None:
        """Args:
        plugins: plugins at hand, checked now (unknown kinds and clashes raise ConfigError).
        entry_points: installed ``naa.plugins`` entry points, imported when a component is first looked up.
        """
        self._factories: dict[tuple[ComponentKind, str], list[tuple[str, Callable[..., object]]]] = {}
        for plugin in plugins:
            self._add(plugin)
        for kind, name in self._factories:
            self._check_unique(kind, name)
        self._pending = list(entry_points)
        self._failures: list[str] = []  # one message per entry point that did not load
        self._lock = threading.Lock()

    def _add(self, plugin: Plugin) -> None:
        unknown = [kind for kind in plugin.components if kind not in _REQUIRED_METHODS]
        if unknown:
            raise ConfigError(
                f"plugin {plugin.name!r} declares unknown component kind {unknown[0]!r}; "
                f"use one of {', '.join(_REQUIRED_METHODS)}"
            )
        for kind, factories in plugin.components.items():
            for name, factory in factories.items():
                self._factories.setdefault((kind, name), []).append((plugin.name, factory))

    def _check_unique(self, kind: ComponentKind, name: str) -> None:
        providers = self._factories.get((kind, name), [])
        if len(providers) > 1:
            raise ConfigError(
                f"plugins {providers[0][0]!r} and {providers[1][0]!r} both register the {kind} {name!r}; "
                "uninstall one"
            )

    def _load_pending(self) -> None:
        """Import the entry points not imported yet; each failure is kept (and logged), not raised."""
        with self._lock:
            for point in self._pending:
                try:
                    plugin = _load_entry_point(point)
                    self._add(plugin)
                except ConfigError as err:
                    logger.warning("%s", err)
                    self._failures.append(str(err))
            self._pending = []

    def names(self, kind: ComponentKind) -> list[str]:
        """The ``kind`` components of the plugins that load (imports the installed ones)."""
        self._load_pending()
        return sorted(name for k, name in self._factories if k == kind)

    def _provider(self, kind: ComponentKind, name: str) -> tuple[str, Callable[..., object]]:
        self._load_pending()
        self._check_unique(kind, name)
        providers = self._factories.get((kind, name))
        if providers:
            return providers[0]
        known = ", ".join(self.names(kind)) or "none installed"
        message = f"no {kind} plugin named {name!r} (available: {known})"
        if self._failures:
            raise ConfigError(f"{message}; it may be in one that failed: {'; '.join(self._failures)}")
        raise ConfigError(f"{message}; pip install its package")

    def require(self, kind: ComponentKind, name: str) -> None:
        """Raises ConfigError, naming the installed ones, when no plugin provides the ``kind`` ``name``."""
        self._provider(kind, name)

    def build(self, kind: ComponentKind, name: str, options: Mapping[str, JsonValue] | None = None) -> object:
        """Call the factory of ``name`` with ``options`` and check the result has the methods of ``kind``."""
        plugin, factory = self._provider(kind, name)
        try:
            component = factory(**(options or {}))
        except TypeError as err:
            raise ConfigError(
                f"options of the {kind} {name!r} from plugin {plugin!r} are wrong: {err}"
            ) from err
        except Exception as err:  # a factory can refuse its options with anything (ValueError, OSError)
            raise ConfigError(f"the {kind} {name!r} from plugin {plugin!r} failed to build: {err}") from err
        missing = [m for m in _REQUIRED_METHODS[kind] if not callable(getattr(component, m, None))]
        if missing:
            raise ConfigError(
                f"the {kind} {name!r} from plugin {plugin!r} lacks {', '.join(missing)}; "
                f"a {kind} must define {', '.join(_REQUIRED_METHODS[kind])}"
            )
        return component

    @overload
    def build_ref(self, kind: Literal["intent_classifier"], ref: PluginRef) -> "IntentClassifier": ...
    @overload
    def build_ref(self, kind: Literal["retriever"], ref: PluginRef) -> "Retriever": ...
    @overload
    def build_ref(self, kind: Literal["generator"], ref: PluginRef) -> "Generator": ...
    @overload
    def build_ref(self, kind: Literal["reward"], ref: PluginRef) -> RewardFunction: ...
    @overload
    def build_ref(self, kind: Literal["tool"], ref: PluginRef) -> Tool: ...
    @overload
    def build_ref(self, kind: Literal["postprocessor"], ref: PluginRef) -> PostProcessor: ...
    def build_ref(self, kind: ComponentKind, ref: PluginRef) -> object:
        """``build`` for a reference from a partner file, typed by the Protocol of its kind."""
        return self.build(kind, ref.name, ref.options)


def _load_entry_point(point: EntryPoint) -> Plugin:
    """Import one entry point: a :class:`Plugin`, or a callable that returns one (so a package can defer
    heavy imports until it is loaded). Raises ConfigError naming the entry point."""
    try:
        loaded = point.load()
        plugin = loaded() if callable(loaded) and not isinstance(loaded, Plugin) else loaded
    except Exception as err:  # a third-party import can raise anything; name the culprit
        raise ConfigError(f"plugin entry point {point.name!r} ({point.value}) failed to load: {err}") from err
    if not isinstance(plugin, Plugin):
        raise ConfigError(
            f"plugin entry point {point.name!r} ({point.value}) must name a naa.config.plugins.Plugin, "
            f"got {type(plugin).__name__}"
        )
    return plugin


@functools.cache
def load_plugins() -> PluginRegistry:
    """The ``naa.plugins`` entry points installed in this environment, read once per process.

    Only their names are read here; a plugin is imported when a component is first looked up (see
    :class:`PluginRegistry`), so a broken plugin package fails only the partners that would use it.
    """
    return PluginRegistry(entry_points=tuple(entry_points(group=ENTRY_POINT_GROUP)))


def apply_postprocessors(
    postprocessors: Sequence[PostProcessor], reply: str, *, intent: str, action: str
) -> str:
    """Run the partner's post-processors in the order its file lists them."""
    for postprocessor in postprocessors:
        reply = postprocessor.process(reply, intent=intent, action=action)
    return reply
