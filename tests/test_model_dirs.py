"""Write-then-rename: a model folder is replaced whole or not at all."""

from pathlib import Path

import pytest

from naa.model_dirs import atomic_model_dir


def test_success_replaces_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_model_dir(target) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_failure_keeps_the_old_folder_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_model_dir(target) as staging:
        (staging / "half.txt").write_text("half-written")
        raise RuntimeError("disk full")
    assert (target / "old.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_first_save_creates_missing_parents(tmp_path: Path) -> None:
    target = tmp_path / "partners" / "demo" / "intent"
    with atomic_model_dir(target) as staging:
        (staging / "x").write_text("x")
    assert (target / "x").exists()


def test_the_model_gets_the_umasks_modes_whatever_its_writer_chose(tmp_path: Path) -> None:
    # The folder was 0700 (mkdtemp) and model.safetensors 0600: a server running as another user could
    # not load a model the worker wrote.
    target = tmp_path / "warmup"
    with atomic_model_dir(target) as staging:
        weights = staging / "model.safetensors"
        weights.write_bytes(b"weights")
        weights.chmod(0o600)
        (staging / "sub").mkdir(mode=0o700)
    probe_dir, probe_file = tmp_path / "probe-dir", tmp_path / "probe-file"
    probe_dir.mkdir()
    probe_file.touch()
    assert target.stat().st_mode == (target / "sub").stat().st_mode == probe_dir.stat().st_mode
    assert (target / "model.safetensors").stat().st_mode == probe_file.stat().st_mode
