"""Plugins installed as pip installs them, for tests that load plugins through real entry points."""

from pathlib import Path

from naa.config.plugins import ENTRY_POINT_GROUP


def install_dist(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """Write the dist-info pip writes for package ``name`` into ``site`` (a folder on sys.path or
    PYTHONPATH), so importlib.metadata finds its ``naa.plugins`` entry points."""
    dist_info = site / f"{name}-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
