"""Embedding with the packaged MiniLM in float32 and bfloat16: same vectors to within retrieval's needs."""

import numpy as np

from naa.embeddings import embed, load_encoder, native_bfloat16, resolved_precision

TEXTS = [
    "How do I return a tent I bought last month?",
    "The delivery fee to the islands is charged once per order.",
    "Refunds go back to the card used for the purchase within five working days.",
]


def test_float32_is_the_plain_normalised_encoder_output() -> None:
    plain = load_encoder().encode(TEXTS, normalize_embeddings=True)
    vectors = embed(TEXTS, precision="float32")
    assert vectors.dtype == np.float32 and vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(vectors, plain, atol=1e-6)


def test_bfloat16_vectors_are_unit_length_and_agree_with_float32() -> None:
    exact = embed(TEXTS, precision="float32")
    fast = embed(TEXTS, precision="bfloat16")
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosine = (exact * fast).sum(axis=1)
    assert cosine.min() > 0.999
    # Still the same ranking: each text is nearest to itself across the two precisions.
    assert ((fast @ exact.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_auto_uses_bfloat16_only_where_the_cpu_computes_it() -> None:
    expected = embed(TEXTS, precision="bfloat16" if native_bfloat16() else "float32")
    assert resolved_precision("auto") == ("bfloat16" if native_bfloat16() else "float32")
    np.testing.assert_array_equal(embed(TEXTS, precision="auto"), expected)
