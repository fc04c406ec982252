"""Plugins installed as pip installs them, for tests that load plugins through real entry points."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from naa.config.plugins import ENTRY_POINT_GROUP, load_plugins


def install_dist(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """Write the dist-info pip writes for package ``name`` into ``site`` (a folder on sys.path or
    PYTHONPATH), so importlib.metadata finds its ``naa.plugins`` entry points."""
    dist_info = site / f"{name}-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@contextmanager
def installed_plugin(site: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str) -> Iterator[None]:
    """A one-module plugin package whose ``plugin`` is its entry point, on sys.path for the block, with
    the process's plugin registry read again on entry and on exit."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    install_dist(site, module, {module: f"{module}:plugin"})
    monkeypatch.syspath_prepend(str(site))
    load_plugins.cache_clear()
    try:
        yield
    finally:
        load_plugins.cache_clear()
