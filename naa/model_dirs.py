"""A model folder replaced whole: written beside the old one, then swapped in with renames.

The intent classifier, the RL warm-up and RL checkpoints write folders that a failed or interrupted run
must leave as they were.
"""

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from naa.errors import ConfigError


def check_replaceable(model_dir: Path, marker: str) -> None:
    """Refuse to replace anything but an earlier model (a folder holding ``marker``) or an empty folder: a
    mistyped ``--out`` (``.``, a project, a file) must not be deleted by the swap.

    Raises:
        ConfigError: ``model_dir`` is a file, or a folder holding files but no model.
    """
    if not model_dir.exists():
        return
    if model_dir.is_dir() and ((model_dir / marker).is_file() or not any(model_dir.iterdir())):
        return
    kind = "folder" if model_dir.is_dir() else "file"
    raise ConfigError(
        f"{model_dir} is a {kind} that holds no model, and writing the model there would replace it: "
        "choose a new or empty folder"
    )


@contextmanager
def atomic_model_dir(model_dir: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``model_dir``; on success it replaces ``model_dir``.

    On any exception the temporary folder is removed and ``model_dir`` is untouched.
    """
    model_dir = model_dir.resolve()  # "." has no name to put beside it
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = model_dir.parent / f".{model_dir.name}.new-{secrets.token_hex(8)}"
    staging.mkdir()  # the umask's mode, as the user's other folders (mkdtemp's would be 0700)
    try:
        yield staging
        _umask_modes(staging)
        _swap_in(staging, model_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask_modes(folder: Path) -> None:
    """Give what was written in ``folder`` the modes the umask gives (the folder's own, from mkdir): some
    writers create files 0600 (model.safetensors), which a server running as another user cannot load."""
    folder_mode = folder.stat().st_mode & 0o777
    for path in folder.rglob("*"):
        path.chmod(folder_mode if path.is_dir() else folder_mode & 0o666)


def _swap_in(staging: Path, model_dir: Path) -> None:
    # Two renames: a folder cannot be replaced by rename while it exists, so the old one moves aside first.
    # Between them the model folder is briefly absent, never half-written.
    retired = model_dir.with_name(f".{model_dir.name}.old-{os.getpid()}")
    if model_dir.exists():
        os.replace(model_dir, retired)
    os.replace(staging, model_dir)
    shutil.rmtree(retired, ignore_errors=True)
