"""Training an intent classifier from a partner's labelled examples: the one recipe for every data set.

Recipe: fine-tune the top layers of the configured sentence encoder with a linear head (cross-entropy,
label smoothing 0.1, AdamW, linear warm-up and decay); out-of-scope examples, when given, form one more
class. Beside it, a word and character n-gram model (lexical.py). Then, on held-out examples (the
validation set when given, else a stratified tenth of the training examples kept out of training): the
weight of the n-gram model in the mean of the two models' log probabilities, temperature scaling of the
softmax, a confidence model that combines the top probability with the similarity to the nearest
training example, and the threshold.
"""

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from naa.embeddings import resolve_model_path
from naa.errors import ConfigError, ModelUnavailableError
from naa.intent.base import OUT_OF_SCOPE
from naa.intent.calibration import calibrated_probabilities, choose_threshold, fit_temperature
from naa.intent.confidence import fit_confidence, nearest_similarity, unit_rows
from naa.intent.config import EmbeddingIntentConfig
from naa.intent.examples import LabelledExample, check_examples
from naa.intent.finetune import FineTuneSettings, SplitEncoder, fine_tune
from naa.intent.lexical import LexicalModel, choose_weight, combined_logits, fit_lexical, save_lexical
from naa.intent.model_files import (
    ENCODER_DIR,
    MAX_LENGTH,
    META_FILE,
    IntentModelMeta,
    save_head,
    save_memory,
    write_meta,
)
from naa.model_dirs import atomic_model_dir, check_replaceable

Progress = Callable[[float, str], None]

# Used when there are too few examples to hold any out: accept when the top intent is more likely than not.
DEFAULT_THRESHOLD = 0.5
HELD_OUT_FRACTION = 0.1
MIN_EXAMPLES_TO_HOLD_OUT = 5  # an intent with fewer keeps all its examples for training


@dataclass(frozen=True)
class TrainReport:
    """What a training run produced, for the CLI, the API and the benchmark."""

    model_dir: Path
    intents: int
    train_examples: int
    out_of_scope_examples: int
    held_out_examples: int
    calibration: str  # "validation", "held-out" or "default"
    temperature: float
    threshold: float
    held_out_accuracy: float | None  # top intent right on held-out in-scope examples
    lexical_weight: float  # of the n-gram model beside the encoder; 0: the encoder alone
    train_seconds: float


def train_intent_classifier(
    config: EmbeddingIntentConfig,
    examples: Sequence[LabelledExample],
    out_dir: Path,
    progress: Progress | None = None,
    validation: Sequence[LabelledExample] | None = None,
    out_of_scope: Sequence[str] = (),
) -> TrainReport:
    """Train on ``examples`` (plus ``out_of_scope`` texts as a reject class) and save to ``out_dir``.

    ``validation`` may hold in-scope examples and examples labelled ``OUT_OF_SCOPE``; it calibrates the
    confidence and picks the threshold. ``out_dir`` is replaced only when training succeeds.

    Raises:
        ConfigError: the examples cannot be trained on (see ``check_examples``), the validation set
            names intents the training set lacks, or ``out_dir`` holds something other than a model.
        ModelUnavailableError: the base encoder cannot be loaded.
        TrainingError: the encoder is not a BERT-style model.
    """
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    check_examples(examples, "intent training set")
    check_replaceable(out_dir, META_FILE)
    train_set, held_out, source = _split_held_out(examples, out_of_scope, validation, config.seed)
    labels = _labels(train_set, held_out)

    report(0.0, f"loading {config.embedding_model}")
    model = _load_fresh_encoder(config.embedding_model)
    encoder = SplitEncoder(model[0].auto_model, model.tokenizer, config.trainable_layers, MAX_LENGTH)
    index = {label: i for i, label in enumerate(labels)}
    train_texts = [example.text for example in train_set]
    train_targets = [index[example.intent] for example in train_set]
    head, train_embeddings = fine_tune(
        encoder,
        train_texts,
        train_targets,
        len(labels),
        _settings(config),
        lambda fraction, message: report(0.02 + 0.88 * fraction, message),
    )
    weight = head.weight.detach().numpy().astype(np.float32)  # (C, H)
    bias = head.bias.detach().numpy().astype(np.float32)  # (C,)
    in_scope_rows = [i for i, e in enumerate(train_set) if e.intent != OUT_OF_SCOPE]
    memory = unit_rows(train_embeddings.numpy()[in_scope_rows])  # (M, H)

    report(0.9, f"n-gram model, then calibration on {len(held_out)} held-out examples")
    calibration = _Calibration(1.0, DEFAULT_THRESHOLD, None, None)
    lexical, lexical_weight = None, 0.0
    if held_out:
        texts = [e.text for e in held_out]
        embeddings = encoder.embed(texts).numpy()  # (N, H)
        logits = embeddings @ weight.T + bias  # (N, C)
        lexical = fit_lexical(train_texts, np.array(train_targets), len(labels))
        if lexical is not None:
            lexical_log_probs = lexical.log_probs(texts)  # (N, C)
            in_scope = np.array([e.intent != OUT_OF_SCOPE for e in held_out])
            targets = np.array([index.get(e.intent, -1) for e in held_out])  # -1: out of scope
            lexical_weight = choose_weight(logits[in_scope], lexical_log_probs[in_scope], targets[in_scope])
            logits = combined_logits(logits, lexical_log_probs, lexical_weight)
        similarity = nearest_similarity(embeddings, memory.astype(np.float32))
        calibration = _calibrate(logits, similarity, held_out, labels)

    report(0.97, f"saving to {out_dir}")
    meta = IntentModelMeta(
        labels=labels,
        temperature=calibration.temperature,
        threshold=calibration.threshold,
        embedding_model=config.embedding_model,
        calibration=source,
        confidence_weights=calibration.confidence_weights,
        lexical_weight=lexical_weight,
    )
    _save(out_dir, encoder, weight, bias, memory, meta, lexical if lexical_weight > 0 else None)
    report(1.0, "done")
    return TrainReport(
        model_dir=out_dir,
        intents=sum(label != OUT_OF_SCOPE for label in labels),
        train_examples=len(train_set),
        out_of_scope_examples=sum(e.intent == OUT_OF_SCOPE for e in train_set),
        held_out_examples=len(held_out),
        calibration=source,
        temperature=calibration.temperature,
        threshold=calibration.threshold,
        held_out_accuracy=calibration.accuracy,
        lexical_weight=lexical_weight,
        train_seconds=time.perf_counter() - started,
    )


def _labels(train_set: Sequence[LabelledExample], held_out: Sequence[LabelledExample]) -> list[str]:
    """Class order of the head: intents sorted, then the reject class when there are out-of-scope examples."""
    labels = sorted({example.intent for example in train_set if example.intent != OUT_OF_SCOPE})
    if any(example.intent == OUT_OF_SCOPE for example in train_set):
        labels.append(OUT_OF_SCOPE)
    unknown = sorted({e.intent for e in held_out if e.intent != OUT_OF_SCOPE} - set(labels))
    if unknown:
        raise ConfigError(f"validation set has intents the training set lacks: {', '.join(unknown)}")
    return labels


def _save(
    out_dir: Path,
    encoder: SplitEncoder,
    weight: np.ndarray,
    bias: np.ndarray,
    memory: np.ndarray,
    meta: IntentModelMeta,
    lexical: LexicalModel | None,
) -> None:
    with atomic_model_dir(out_dir) as staging:
        encoder.transformer.save_pretrained(staging / ENCODER_DIR)
        encoder.tokenizer.save_pretrained(staging / ENCODER_DIR)
        save_head(staging, weight, bias)
        save_memory(staging, memory)
        if lexical is not None:
            save_lexical(staging, lexical)
        write_meta(staging, meta)


def _settings(config: EmbeddingIntentConfig) -> FineTuneSettings:
    return FineTuneSettings(
        epochs=config.epochs,
        trainable_layers=config.trainable_layers,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        head_learning_rate=20 * config.learning_rate,  # a new head starts from scratch and needs larger steps
        label_smoothing=0.1,
        max_length=MAX_LENGTH,
        seed=config.seed,
    )


def _load_fresh_encoder(name: str) -> Any:
    """A private copy of the base encoder: training changes its weights, so the shared cached one won't do.

    Loaded through sentence-transformers, which finds the transformer inside any sentence-transformers folder.
    """
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device="cpu")
    except (OSError, ValueError) as err:
        raise ModelUnavailableError(f"cannot load embedding model {name!r} from {path}: {err}") from err


def _split_held_out(
    examples: Sequence[LabelledExample],
    out_of_scope: Sequence[str],
    validation: Sequence[LabelledExample] | None,
    seed: int,
) -> tuple[list[LabelledExample], list[LabelledExample], str]:
    """Training set, held-out set and the name of the calibration source."""
    pool = list(examples) + [LabelledExample(text, OUT_OF_SCOPE) for text in out_of_scope]
    if validation is not None:
        return pool, list(validation), "validation"
    by_intent: dict[str, list[LabelledExample]] = defaultdict(list)
    for example in pool:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    train_set: list[LabelledExample] = []
    held_out: list[LabelledExample] = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        rng.shuffle(group)
        keep = 0 if len(group) < MIN_EXAMPLES_TO_HOLD_OUT else max(1, round(HELD_OUT_FRACTION * len(group)))
        held_out.extend(group[:keep])
        train_set.extend(group[keep:])
    return train_set, held_out, "held-out" if held_out else "default"


@dataclass(frozen=True)
class _Calibration:
    temperature: float
    threshold: float
    confidence_weights: tuple[float, float, float] | None
    accuracy: float | None  # top intent right on held-out in-scope examples


def _calibrate(
    logits: np.ndarray, similarity: np.ndarray, held_out: Sequence[LabelledExample], labels: list[str]
) -> _Calibration:
    """Temperature, confidence model and threshold from ``(N, C)`` held-out logits, ``(N,)`` similarities."""
    index = {label: i for i, label in enumerate(labels)}
    known = np.array([e.intent in index for e in held_out])
    targets = np.array([index.get(e.intent, -1) for e in held_out])
    temperature = fit_temperature(logits[known], targets[known]) if known.any() else 1.0
    probs = calibrated_probabilities(logits, temperature)  # (N, C)
    in_scope_columns = np.array([i for i, label in enumerate(labels) if label != OUT_OF_SCOPE])
    top_probability = probs[:, in_scope_columns].max(axis=1)  # (N,)
    top = in_scope_columns[probs[:, in_scope_columns].argmax(axis=1)]  # (N,) class index of the top intent
    is_oos = np.array([e.intent == OUT_OF_SCOPE for e in held_out])
    correct = (top == targets) & ~is_oos
    model = fit_confidence(top_probability, similarity, correct)
    confidence = top_probability if model is None else model(top_probability, similarity)
    return _Calibration(
        temperature=temperature,
        threshold=choose_threshold(confidence, correct, is_oos),
        confidence_weights=None if model is None else (*model.weights, model.bias),
        accuracy=float(correct[~is_oos].mean()) if (~is_oos).any() else None,
    )
