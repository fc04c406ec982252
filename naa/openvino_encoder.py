"""A sentence-transformers model whose transformer runs on OpenVINO, on CPU.

Why: PyTorch runs the encoder op by op (attention, GELU, layer norm and the dtype casts each apart),
and on a short query that dispatch is most of the time. OpenVINO compiles the model into fused
kernels: on this project's 2-core Intel Xeon (AMX), with bfloat16, it embedded knowledge-base chunks
about 1.3x as fast as PyTorch's bfloat16 autocast and one query in about a third of the time
(``benchmarks/embedding_runtime_benchmark.py``; README, Performance, Retrieval), with vectors within
1e-4 cosine of PyTorch float32's.

Only the transformer is converted. Tokenisation, pooling and normalisation stay the model folder's own
sentence-transformers modules, so a model that configures CLS or max pooling is pooled the same way
on both runtimes. Conversion traces the model, which takes seconds; the converted model is kept in a
cache folder when one is given, and the next process reads it in a fraction of a second.
"""

import logging
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from naa.errors import ModelUnavailableError
from naa.model_dirs import atomic_model_dir

if TYPE_CHECKING:
    import openvino as ov
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

_TRACE_TEXTS = ["a sentence to trace the encoder with", "and a longer second one, so that padding is traced"]


class OpenVINOEncoder:
    """Embeds like ``SentenceTransformer.encode``, with the transformer compiled.

    Thread-safe: one inference request, taken in turn (it already uses every core).
    """

    def __init__(
        self,
        model: "SentenceTransformer",
        precision: Literal["float32", "bfloat16"],
        cache: Path | None = None,
    ) -> None:
        """``cache``: a folder for this model's conversion, read when present, written when not."""
        import openvino as ov
        import torch

        self._model = model
        first = model[0]
        transformer = getattr(first, "auto_model", None)
        if not isinstance(transformer, torch.nn.Module):
            raise ModelUnavailableError(
                "OpenVINO runs only sentence-transformers models that start with a transformer, "
                f"not {type(first).__name__}; set embedding_runtime: torch"
            )
        try:
            converted = _converted(model, transformer, cache)
            compiled = ov.Core().compile_model(
                converted,
                "CPU",
                {
                    "INFERENCE_PRECISION_HINT": "bf16" if precision == "bfloat16" else "f32",
                    "PERFORMANCE_HINT": "LATENCY",  # one request at a time, all cores on it
                },
            )
        except Exception as err:  # the converter raises many types (tracing, unsupported op, plugin)
            raise ModelUnavailableError(
                f"cannot convert {type(transformer).__name__} to OpenVINO: {err}; "
                "set embedding_runtime: torch"
            ) from err
        self._inputs = [port.get_any_name() for port in converted.inputs]
        named = [port for port in compiled.outputs if "last_hidden_state" in port.get_names()]
        self._output = named[0] if named else compiled.outputs[0]
        self._token_key = str(first.module_output_name)  # where the next module reads the tokens
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """``(N, D)`` float32 embeddings of ``texts`` in their order, as the model's own modules pool them."""
        import torch

        # Longest first, as sentence-transformers does: little compute goes to padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            features: dict[str, Any] = self._model.preprocess(batch)
            with self._lock:
                result = self._request.infer({name: features[name].numpy() for name in self._inputs})
                hidden = np.array(result[self._output])  # a copy: the request reuses its output buffer
            features[self._token_key] = torch.from_numpy(hidden)
            with torch.inference_mode():
                for module in list(self._model)[1:]:
                    features = module(features)
                parts.append(features["sentence_embedding"].float().numpy())
        if not parts:
            return np.zeros((0, self._model.get_embedding_dimension() or 0), np.float32)
        vectors = np.empty((len(texts), parts[0].shape[1]), np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors


def _converted(model: "SentenceTransformer", transformer: Any, cache: Path | None) -> "ov.Model":
    import openvino as ov
    import torch

    if cache is not None and (cache / "model.xml").is_file():
        try:
            return ov.Core().read_model(cache / "model.xml")
        except RuntimeError as err:  # written atomically, so only damaged by hand: convert again
            logger.warning("converting again: cannot read %s: %s", cache, err)
    example = {k: v for k, v in model.preprocess(_TRACE_TEXTS).items() if isinstance(v, torch.Tensor)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracing warns about Python branches it cannot record
        converted = ov.convert_model(transformer, example_input=example)
    if cache is not None:
        try:
            with atomic_model_dir(cache) as staging:
                # float32 weights: the precision is chosen when compiling, not in the file.
                ov.save_model(converted, staging / "model.xml", compress_to_fp16=False)
        except OSError as err:  # a read-only folder costs the next process a conversion, nothing more
            logger.warning("cannot keep the OpenVINO conversion in %s: %s", cache, err)
    return converted
