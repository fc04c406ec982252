"""Files replaced whole: written beside the target, flushed to disk, then renamed over it.

A reader (another process, or the next run after a crash) finds the old file or the new one, never half of
one; without the flushes, a power loss soon after the rename can leave an empty file under the new name.
Run state, manifests and task files are written this way; folders of model files go through
``naa.model_dirs``.
"""

import os
import threading
from collections.abc import Iterable
from pathlib import Path


def replace_file(path: Path, chunks: Iterable[str]) -> None:
    """Write the concatenated ``chunks`` (UTF-8) as ``path``; if writing fails, ``path`` is unchanged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named per process and thread, so two writers of one file never share a temporary file; opened as
    # any file, so it gets the umask's mode (not mkstemp's 0600).
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            out.writelines(chunks)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """Flush a file or a folder (its entries: a rename into it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
