"""A model folder replaced whole: written beside the old one, then swapped in with renames.

The intent classifier, the RL warm-up and RL checkpoints write folders that a failed or interrupted run
must leave as they were.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_model_dir(model_dir: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``model_dir``; on success it replaces ``model_dir``.

    On any exception the temporary folder is removed and ``model_dir`` is untouched.
    """
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.new-", dir=model_dir.parent))
    try:
        yield staging
        _swap_in(staging, model_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, model_dir: Path) -> None:
    # Two renames: a folder cannot be replaced by rename while it exists, so the old one moves aside first.
    # Between them the model folder is briefly absent, never half-written.
    retired = model_dir.with_name(f".{model_dir.name}.old-{os.getpid()}")
    if model_dir.exists():
        os.replace(model_dir, retired)
    os.replace(staging, model_dir)
    shutil.rmtree(retired, ignore_errors=True)
