"""A file replaced whole is the old one or the new one, never half of either."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from naa.atomic_files import replace_file


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    replace_file(path, ["old 1\n", "old 2\n"])

    def lines() -> Iterator[str]:
        yield "new 1\n"
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="disk is full"):
        replace_file(path, lines())
    assert path.read_text(encoding="utf-8") == "old 1\nold 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.jsonl"]


def test_the_file_and_its_folder_are_created_with_the_umasks_mode(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "run-1" / "config.json"
    replace_file(path, ['{"steps": 3}'])
    assert path.read_text(encoding="utf-8") == '{"steps": 3}'
    probe = tmp_path / "probe"
    probe.touch()
    assert path.stat().st_mode == probe.stat().st_mode  # readable by whoever reads other files here
