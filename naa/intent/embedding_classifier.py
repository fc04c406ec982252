"""The default intent classifier: a fine-tuned sentence encoder plus a linear head, and beside it a word and
character n-gram model (lexical.py) when training found that it helps.

The ranked intents carry temperature-scaled softmax probabilities. The prediction's confidence is the
probability that the top intent is right, from ``confidence.ConfidenceModel`` (top probability and
similarity to the nearest training example). When training had out-of-scope examples, the head has
one more class for them, never ranked: the probability mass it takes lowers the in-scope ones.
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from naa.embeddings import resolved_precision
from naa.errors import ModelUnavailableError
from naa.intent.base import OUT_OF_SCOPE, IntentPrediction, IntentScore
from naa.intent.calibration import calibrated_probabilities
from naa.intent.confidence import ConfidenceModel, nearest_similarity
from naa.intent.config import EmbeddingIntentConfig
from naa.intent.lexical import LexicalModel, combined_logits, load_lexical
from naa.intent.model_files import (
    ENCODER_DIR,
    MAX_LENGTH,
    OPENVINO_DIR,
    IntentModelMeta,
    load_head,
    load_memory,
    read_meta,
)
from naa.openvino_encoder import OpenVINOEncoder, compile_for_runtime

if TYPE_CHECKING:
    from naa.intent.finetune import SplitEncoder


class EmbeddingIntentClassifier:
    """Predicts intents with a model trained by ``train_intent_classifier``.

    >>> classifier = EmbeddingIntentClassifier(config, model_dir)
    >>> classifier.warm_up()
    >>> classifier.predict(["my card has not arrived"])[0].label
    """

    def __init__(self, config: EmbeddingIntentConfig, model_dir: Path) -> None:
        self.config = config
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._encoder: Any = None
        self._meta: IntentModelMeta | None = None
        self._weight = np.zeros((0, 0), dtype=np.float32)
        self._bias = np.zeros(0, dtype=np.float32)
        self._memory = np.zeros((0, 0), dtype=np.float32)
        self._confidence: ConfidenceModel | None = None
        self._lexical: LexicalModel | None = None

    @property
    def meta(self) -> IntentModelMeta:
        """The trained model's labels, temperature and calibrated threshold (loads them on first use)."""
        self.warm_up()
        assert self._meta is not None
        return self._meta

    @property
    def threshold(self) -> float:
        """The partner's threshold when set, else the one calibrated at training time."""
        return self.config.threshold if self.config.threshold is not None else self.meta.threshold

    def warm_up(self) -> None:
        """Load the encoder and head; safe to call twice and from several threads."""
        with self._lock:
            if self._encoder is not None:
                return
            meta = read_meta(self.model_dir)
            weight, bias = load_head(self.model_dir)
            memory = load_memory(self.model_dir)
            encoder = self._load_encoder(self.model_dir / ENCODER_DIR)
            self._meta, self._weight, self._bias, self._memory = meta, weight, bias, memory
            if meta.lexical_weight > 0:
                self._lexical = load_lexical(self.model_dir)
            if meta.confidence_weights is not None:
                w_probability, w_similarity, bias_term = meta.confidence_weights
                self._confidence = ConfidenceModel((w_probability, w_similarity), bias_term)
            self._encoder = encoder

    def _load_encoder(self, folder: Path) -> "OpenVINOEncoder | SplitEncoder":
        """The fine-tuned encoder on the configured runtime, mean-pooled without normalisation either way."""
        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
        from transformers import AutoModel, AutoTokenizer

        from naa.intent.finetune import SplitEncoder

        runtime = self.config.embedding_runtime
        precision = resolved_precision(self.config.embedding_precision)
        try:
            if runtime != "torch":
                transformer = Transformer(str(folder), max_seq_length=MAX_LENGTH)
                pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
                pooled = SentenceTransformer(modules=[transformer, pooling])
                compiled = compile_for_runtime(pooled, precision, self.model_dir / OPENVINO_DIR, runtime)
                if compiled is not None:
                    return compiled
            model = AutoModel.from_pretrained(folder).eval()
            if precision == "bfloat16":
                # With one query's few tokens the encoder spends its time reading weights, not
                # multiplying: bfloat16 weights halve the reading.
                model = model.to(torch.bfloat16)
            return SplitEncoder(model, AutoTokenizer.from_pretrained(folder), 1, MAX_LENGTH)
        except (OSError, ValueError) as err:
            raise ModelUnavailableError(
                f"cannot load the intent encoder in {self.model_dir}: {err}; run `naa intent train` again"
            ) from err

    def scores(self, utterances: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(N, C)`` calibrated class probabilities (``meta.labels`` order) and ``(N,)`` confidences."""
        self.warm_up()
        if isinstance(self._encoder, OpenVINOEncoder):
            embeddings = self._encoder.encode(list(utterances), batch_size=64)  # (N, H)
        else:
            embeddings = self._encoder.embed(list(utterances)).numpy()
        logits = embeddings @ self._weight.T + self._bias  # (N, C)
        if self._lexical is not None:
            lexical = self._lexical.log_probs(list(utterances))
            logits = combined_logits(logits, lexical, self.meta.lexical_weight)
        probs = calibrated_probabilities(logits, self.meta.temperature)  # (N, C)
        top_probability = probs[:, self._in_scope].max(axis=1)  # (N,)
        if self._confidence is None:
            return probs, top_probability
        return probs, self._confidence(top_probability, nearest_similarity(embeddings, self._memory))

    def predict(self, utterances: Sequence[str]) -> list[IntentPrediction]:
        """Ranked in-scope intents per utterance; ``out_of_scope`` when confidence is under the threshold."""
        if not utterances:
            return []
        probs, confidence = self.scores(utterances)
        labels = self.meta.labels
        threshold = self.threshold
        predictions = []
        for row, sure in zip(probs, confidence, strict=True):
            ranked = sorted(self._in_scope, key=lambda i: -row[i])[: self.config.top_n]
            top = tuple(IntentScore(labels[i], float(row[i])) for i in ranked)
            rejected = bool(sure < threshold)
            predictions.append(
                IntentPrediction(
                    label=OUT_OF_SCOPE if rejected else top[0].label,
                    confidence=float(sure),
                    out_of_scope=rejected,
                    top=top,
                )
            )
        return predictions

    @property
    def _in_scope(self) -> list[int]:
        return [i for i, label in enumerate(self.meta.labels) if label != OUT_OF_SCOPE]
