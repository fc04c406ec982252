"""The on-disk layout of a trained intent model, written atomically.

    {model_dir}/encoder/           fine-tuned transformer and its tokenizer (transformers format)
    {model_dir}/head.npz           linear head: weight (C, H), bias (C,)
    {model_dir}/memory.npy         unit-length embeddings of the in-scope training examples, float16
    {model_dir}/lexical.npz        the word and character n-gram model (lexical.py), when it is used
    {model_dir}/intent_model.json  labels, temperature, threshold and how they were obtained
    {model_dir}/encoder-openvino/  the encoder converted to OpenVINO, written by the first process that
                                   predicts with it (a cache: deleting it costs a conversion)

A new model is written to a temporary sibling folder and swapped in with renames, so a failed or
interrupted training leaves the previous model as it was.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from naa.errors import NotFoundError

FORMAT_VERSION = 1
ENCODER_DIR = "encoder"
OPENVINO_DIR = "encoder-openvino"
HEAD_FILE = "head.npz"
MEMORY_FILE = "memory.npy"
META_FILE = "intent_model.json"
MAX_LENGTH = 128  # tokens; customer utterances are far shorter, this only bounds pathological input


@dataclass(frozen=True)
class IntentModelMeta:
    """What a trained model needs at prediction time, besides its weights."""

    labels: list[str]  # class index -> intent; may end with OUT_OF_SCOPE when trained with a reject class
    temperature: float
    threshold: float
    embedding_model: str  # the configured base model, for the record
    calibration: str  # where temperature and threshold came from: "validation", "held-out", or "default"
    # (w_logit_p, w_similarity, bias) of the confidence model; None: confidence is the top probability.
    confidence_weights: tuple[float, float, float] | None = None
    # Weight of the n-gram model (lexical.py, stored beside the head) in the mean of log probabilities;
    # 0: the encoder alone, and no lexical model is stored.
    lexical_weight: float = 0.0
    format_version: int = FORMAT_VERSION


def write_meta(model_dir: Path, meta: IntentModelMeta) -> None:
    (model_dir / META_FILE).write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")


def read_meta(model_dir: Path) -> IntentModelMeta:
    path = model_dir / META_FILE
    if not path.is_file():
        raise NotFoundError(f"no trained intent model in {model_dir}: run `naa intent train` first")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("confidence_weights") is not None:
        raw["confidence_weights"] = tuple(raw["confidence_weights"])
    return IntentModelMeta(**raw)


def save_head(model_dir: Path, weight: np.ndarray, bias: np.ndarray) -> None:
    np.savez(model_dir / HEAD_FILE, weight=weight, bias=bias)


def load_head(model_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(model_dir / HEAD_FILE, allow_pickle=False) as data:
        return data["weight"], data["bias"]


def save_memory(model_dir: Path, memory: np.ndarray) -> None:
    np.save(model_dir / MEMORY_FILE, memory, allow_pickle=False)


def load_memory(model_dir: Path) -> np.ndarray:
    """Float32 in memory: one conversion at load instead of one per query."""
    return np.load(model_dir / MEMORY_FILE, allow_pickle=False).astype(np.float32)
