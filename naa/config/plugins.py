"""Partner plugins: components that installed packages add through the entry-point group ``naa.plugins``.

A partner package adds components without editing NAA. Its pyproject names a :class:`Plugin` object:

    [project.entry-points."naa.plugins"]
    order-lookup = "naa_order_lookup:plugin"

and the plugin maps component names to factories, per kind. A partner file then refers to a component by
name with the options its factory takes (``PluginRef``); for a slot that has built-in backends (intent
classifier, retriever, generator) the reference carries ``backend: plugin`` (``PluginComponentConfig``).
Entry points are read once per process; a broken plugin fails at load time with its entry point named.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Literal, Protocol, overload

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from naa.errors import ConfigError

if TYPE_CHECKING:
    from naa.generation.base import Generator
    from naa.intent.base import IntentClassifier
    from naa.retrieval.base import Retriever

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
    """The components of a set of plugins, looked up by kind and name."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self._factories: dict[tuple[ComponentKind, str], tuple[str, Callable[..., object]]] = {}
        for plugin in plugins:
            for kind, factories in plugin.components.items():
                if kind not in _REQUIRED_METHODS:
                    raise ConfigError(
                        f"plugin {plugin.name!r} declares unknown component kind {kind!r}; "
                        f"use one of {', '.join(_REQUIRED_METHODS)}"
                    )
                for name, factory in factories.items():
                    self._add(plugin.name, kind, name, factory)

    def _add(self, plugin: str, kind: ComponentKind, name: str, factory: Callable[..., object]) -> None:
        taken = self._factories.get((kind, name))
        if taken is not None:
            raise ConfigError(
                f"plugins {taken[0]!r} and {plugin!r} both register the {kind} {name!r}; uninstall one"
            )
        self._factories[(kind, name)] = (plugin, factory)

    def names(self, kind: ComponentKind) -> list[str]:
        return sorted(name for k, name in self._factories if k == kind)

    def require(self, kind: ComponentKind, name: str) -> None:
        """Raises ConfigError, naming the installed ones, when no plugin provides the ``kind`` ``name``."""
        if (kind, name) not in self._factories:
            known = ", ".join(self.names(kind)) or "none installed"
            raise ConfigError(
                f"no {kind} plugin named {name!r} (available: {known}); pip install its package"
            )

    def build(self, kind: ComponentKind, name: str, options: Mapping[str, JsonValue] | None = None) -> object:
        """Call the factory of ``name`` with ``options`` and check the result has the methods of ``kind``."""
        self.require(kind, name)
        plugin, factory = self._factories[(kind, name)]
        try:
            component = factory(**(options or {}))
        except TypeError as err:
            raise ConfigError(
                f"options of the {kind} {name!r} from plugin {plugin!r} are wrong: {err}"
            ) from err
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


@functools.cache
def load_plugins() -> PluginRegistry:
    """Read every ``naa.plugins`` entry point installed in this environment, once per process.

    An entry point names a :class:`Plugin` or a callable that returns one (so a package can defer
    heavy imports until it is loaded).
    """
    plugins = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            plugin = loaded() if callable(loaded) and not isinstance(loaded, Plugin) else loaded
        except Exception as err:  # a third-party import can raise anything; name the culprit
            raise ConfigError(
                f"plugin entry point {point.name!r} ({point.value}) failed to load: {err}"
            ) from err
        if not isinstance(plugin, Plugin):
            raise ConfigError(
                f"plugin entry point {point.name!r} ({point.value}) must name a naa.config.plugins.Plugin, "
                f"got {type(plugin).__name__}"
            )
        plugins.append(plugin)
    return PluginRegistry(plugins)


def apply_postprocessors(
    postprocessors: Sequence[PostProcessor], reply: str, *, intent: str, action: str
) -> str:
    """Run the partner's post-processors in the order its file lists them."""
    for postprocessor in postprocessors:
        reply = postprocessor.process(reply, intent=intent, action=action)
    return reply
