"""A sentence-transformers model whose transformer runs on OpenVINO, on CPU.

Why: PyTorch runs the encoder op by op (attention, GELU, layer norm and the dtype casts each apart),
and on a short query that dispatch is most of the time. OpenVINO compiles the model into fused
kernels: on this project's 2-core Intel Xeon (AMX), with bfloat16, it embedded knowledge-base chunks
about 1.5x as fast as PyTorch's bfloat16 autocast and one query in about a quarter of the time
(``benchmarks/embedding_runtime_benchmark.py``; README, Performance, Retrieval), with vectors within
1e-4 cosine of PyTorch float32's.

Only the transformer is converted. Tokenisation, pooling and normalisation stay the model folder's own
sentence-transformers modules, so a model that configures CLS or max pooling is pooled the same way
on both runtimes. Conversion traces the model, which takes seconds; the converted model is kept in a
cache folder when one is given, and the next process reads it in a fraction of a second.
"""

import collections
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

_TOKENISE_WINDOW = 1024  # texts tokenised at once: bounds the padded token arrays of a long list
# An inference request started and not yet collected: the request, the rows of its texts, their features.
_InFlight = tuple["ov.InferRequest", np.ndarray, dict[str, Any]]
_TRACE_TEXTS = ["a sentence to trace the encoder with", "and a longer second one, so that padding is traced"]


def compile_for_runtime(
    model: "SentenceTransformer",
    precision: Literal["float32", "bfloat16"],
    cache: Path | None,
    runtime: Literal["auto", "torch", "openvino"],
) -> "OpenVINOEncoder | None":
    """``model`` on OpenVINO as the configured ``runtime`` asks; None means run it on PyTorch.

    "auto" falls back to PyTorch (with a warning) when OpenVINO cannot convert the model, so an
    unusual model still works; "openvino" makes that an error.

    Raises:
        ModelUnavailableError: ``runtime`` is "openvino" and the model cannot be converted.
    """
    if runtime == "torch":
        return None
    try:
        return OpenVINOEncoder(model, precision, cache)
    except ModelUnavailableError as err:
        if runtime == "openvino":
            raise
        logger.warning("embedding with PyTorch instead of OpenVINO: %s", err)
        return None


class OpenVINOEncoder:
    """Embeds like ``SentenceTransformer.encode``, with the transformer compiled.

    Compiled twice: for a query, one inference request at a time with every core on it (lowest
    latency); for many texts, one request per CPU stream with batches in flight on all of them at once,
    while the next batch is tokenised and the last one pooled (on 2 cores, up to 15% more chunks/s than
    one request at a time, in interleaved runs). The second is compiled on the first long call.
    Thread-safe: each kind of request is taken in turn.
    """

    def __init__(
        self,
        model: "SentenceTransformer",
        precision: Literal["float32", "bfloat16"],
        cache: Path | None = None,
    ) -> None:
        """``cache``: a folder for this model's conversion, read when present, written when not."""
        import torch

        self._model = model
        first = model[0]
        transformer = getattr(first, "auto_model", None)
        if not isinstance(transformer, torch.nn.Module):
            raise ModelUnavailableError(
                "OpenVINO runs only sentence-transformers models that start with a transformer, "
                f"not {type(first).__name__}; set embedding_runtime: torch"
            )
        self._precision = "bf16" if precision == "bfloat16" else "f32"
        try:
            self._converted = _converted(model, transformer, cache)
            compiled = self._compile("LATENCY")
        except Exception as err:  # the converter raises many types (tracing, unsupported op, plugin)
            raise ModelUnavailableError(
                f"cannot convert {type(transformer).__name__} to OpenVINO: {err}; "
                "set embedding_runtime: torch"
            ) from err
        self._inputs = [port.get_any_name() for port in self._converted.inputs]
        named = [i for i, port in enumerate(compiled.outputs) if "last_hidden_state" in port.get_names()]
        self._output = named[0] if named else 0
        self._token_key = str(first.module_output_name)  # where the next module reads the tokens
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()
        self._bulk_requests: list[ov.InferRequest] = []
        self._bulk_lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """``(N, D)`` float32 embeddings of ``texts`` in their order, as the model's own modules pool them."""
        vectors = np.zeros((len(texts), self._model.get_embedding_dimension() or 0), np.float32)
        for start in range(0, len(texts), _TOKENISE_WINDOW):
            window = texts[start : start + _TOKENISE_WINDOW]
            self._encode_window(window, batch_size, vectors[start : start + len(window)])
        return vectors

    def _encode_window(self, texts: list[str], batch_size: int, vectors: np.ndarray) -> None:
        """Fills ``vectors`` (one row per text). Tokenised once; batches then take texts of similar token
        counts, longest first.

        Sorting by token count rather than by characters (as sentence-transformers does) leaves 4%
        padding instead of 14% on knowledge-base chunks in batches of 32.
        """
        features: dict[str, Any] = self._model.preprocess(texts)
        lengths = features["attention_mask"].sum(dim=1).numpy()  # (N,)
        order = np.argsort(-lengths, kind="stable")
        if len(texts) <= batch_size:
            batch = self._batch(features, order, lengths)
            with self._lock:
                self._request.infer(self._inputs_of(batch))
                self._collect((self._request, order, batch), vectors)
            return
        with self._bulk_lock:
            requests = self._bulk()
            in_flight: collections.deque[_InFlight] = collections.deque()
            try:
                for number, start in enumerate(range(0, len(texts), batch_size)):
                    if len(in_flight) == len(requests):
                        self._collect(in_flight.popleft(), vectors)
                    rows = order[start : start + batch_size]
                    batch = self._batch(features, rows, lengths)
                    request = requests[number % len(requests)]
                    request.start_async(self._inputs_of(batch))
                    in_flight.append((request, rows, batch))
                while in_flight:
                    self._collect(in_flight.popleft(), vectors)
            finally:  # after an error, the next call must find every request idle
                for request, _, _ in in_flight:
                    request.wait()

    def _compile(self, hint: Literal["LATENCY", "THROUGHPUT"]) -> "ov.CompiledModel":
        import openvino as ov

        config = {"INFERENCE_PRECISION_HINT": self._precision, "PERFORMANCE_HINT": hint}
        return ov.Core().compile_model(self._converted, "CPU", config)

    def _bulk(self) -> "list[ov.InferRequest]":
        """As many requests as the throughput-compiled model has streams (one per core on 2 cores)."""
        if not self._bulk_requests:
            compiled = self._compile("THROUGHPUT")
            count = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
            self._bulk_requests = [compiled.create_infer_request() for _ in range(count)]
        return self._bulk_requests

    def _inputs_of(self, batch: dict[str, Any]) -> dict[str, np.ndarray]:
        return {name: batch[name].numpy() for name in self._inputs}

    def _collect(self, done: "_InFlight", vectors: np.ndarray) -> None:
        request, rows, batch = done
        request.wait()
        hidden = np.array(request.get_output_tensor(self._output).data)  # a copy: the buffer is reused
        vectors[rows] = self._pooled(batch, hidden)

    def _batch(self, features: dict[str, Any], rows: np.ndarray, lengths: np.ndarray) -> dict[str, Any]:
        """The ``rows`` of the tokenised texts, cut to the longest of them.

        Per-token tensors are cut; other values (the modality name) hold for every text.
        """
        import torch

        padded = features["attention_mask"].shape
        width = int(lengths[rows].max())
        columns = slice(0, width) if self._model.tokenizer.padding_side == "right" else slice(-width, None)
        index = torch.from_numpy(rows)
        return {
            key: value[index][:, columns]
            if isinstance(value, torch.Tensor) and value.shape == padded
            else value
            for key, value in features.items()
        }

    def _pooled(self, features: dict[str, Any], hidden: np.ndarray) -> np.ndarray:
        """The model's own modules after the transformer (pooling, normalisation) on its token vectors."""
        import torch

        features[self._token_key] = torch.from_numpy(hidden)
        with torch.inference_mode():
            for module in list(self._model)[1:]:
                features = module(features)
        return np.asarray(features["sentence_embedding"].float().numpy())


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
