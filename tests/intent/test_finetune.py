"""The split encoder must compute exactly what the sentence-transformers model computes."""

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from naa.embeddings import resolve_model_path
from naa.errors import TrainingError
from naa.intent.finetune import SplitEncoder


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformer:
    return SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")


def test_cached_bottom_plus_top_equals_the_full_encoder(minilm: SentenceTransformer) -> None:
    texts = ["hi", "my card has not arrived yet, it has been two weeks", "exchange rate?"]
    encoder = SplitEncoder(minilm[0].auto_model, minilm.tokenizer, trainable_layers=2, max_length=128)
    split = encoder.pooled_top(encoder.bottom(texts)).detach().numpy()  # (3, 384), padded per batch
    # The packaged model ends with a Normalize module; compare directions, pooling is what matters.
    split /= np.linalg.norm(split, axis=1, keepdims=True)
    full = minilm.encode(texts, convert_to_numpy=True)
    np.testing.assert_allclose(
        encoder.embed(texts).numpy(), encoder.pooled_top(encoder.bottom(texts)).detach().numpy(), atol=1e-5
    )
    np.testing.assert_allclose(split, full, atol=1e-4)


def test_rejects_more_trainable_layers_than_the_model_has(minilm: SentenceTransformer) -> None:
    with pytest.raises(TrainingError, match="trainable_layers must be 1 to 6"):
        SplitEncoder(minilm[0].auto_model, minilm.tokenizer, trainable_layers=7, max_length=128)
