"""Embedding with the packaged MiniLM on both runtimes (PyTorch, OpenVINO) and both precisions: the same
vectors to within retrieval's needs."""

from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling, StaticEmbedding, Transformer

from naa.embeddings import (
    embed,
    load_encoder,
    native_bfloat16,
    openvino_conversion_dir,
    openvino_encoder,
    resolve_model_path,
    resolved_precision,
)
from naa.errors import ModelUnavailableError
from naa.openvino_encoder import OpenVINOEncoder

TEXTS = [
    "How do I return a tent I bought last month?",
    "The delivery fee to the islands is charged once per order.",
    "Refunds go back to the card used for the purchase within five working days.",
]


def test_torch_float32_is_the_plain_normalised_encoder_output() -> None:
    plain = load_encoder().encode(TEXTS, normalize_embeddings=True)
    vectors = embed(TEXTS, precision="float32", runtime="torch")
    assert vectors.dtype == np.float32 and vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(vectors, plain, atol=1e-6)


def test_openvino_float32_matches_torch_float32_in_the_input_order() -> None:
    exact = embed(TEXTS, precision="float32", runtime="torch")
    # A batch size under the text count: batches are formed by length and put back in input order.
    compiled = embed(TEXTS, batch_size=2, precision="float32", runtime="openvino")
    assert compiled.dtype == np.float32 and compiled.shape == exact.shape
    np.testing.assert_allclose(compiled, exact, atol=1e-4)


def test_many_texts_of_mixed_lengths_keep_their_order_through_windows_and_batches_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import naa.openvino_encoder

    words = " ".join(TEXTS).split()
    # Lengths from 1 word to past the encoder's 256-token limit, shuffled so sorting has work to do.
    texts = [" ".join(words * 12)[: 40 * n + 3] for n in np.random.default_rng(0).permutation(60)]
    exact = embed(texts, precision="float32", runtime="torch")
    monkeypatch.setattr(naa.openvino_encoder, "_TOKENISE_WINDOW", 25)  # three windows, the last one short
    compiled = embed(texts, batch_size=4, precision="float32", runtime="openvino")
    np.testing.assert_allclose(compiled, exact, atol=1e-4)


@pytest.mark.parametrize("runtime", ["torch", "openvino"])
def test_bfloat16_vectors_are_unit_length_and_agree_with_float32(runtime: str) -> None:
    exact = embed(TEXTS, precision="float32", runtime="torch")
    fast = embed(TEXTS, precision="bfloat16", runtime=runtime)  # type: ignore[arg-type]
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosine = (exact * fast).sum(axis=1)
    assert cosine.min() > 0.999
    # Still the same ranking: each text is nearest to itself across the two precisions.
    assert ((fast @ exact.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_auto_is_openvino_with_bfloat16_only_where_the_cpu_computes_it() -> None:
    precision = "bfloat16" if native_bfloat16() else "float32"
    assert resolved_precision("auto") == precision
    expected = embed(TEXTS, precision=precision, runtime="openvino")
    np.testing.assert_array_equal(embed(TEXTS, precision="auto", runtime="auto"), expected)


def test_no_texts_give_an_empty_matrix_of_the_model_width() -> None:
    assert embed([], runtime="openvino").shape == (0, 384)


def test_openvino_keeps_the_pooling_the_model_folder_configures(tmp_path: Path) -> None:
    """A CLS-pooled model built from MiniLM's transformer: OpenVINO must pool as the folder says."""
    transformer = Transformer(resolve_model_path("all-MiniLM-L6-v2"))
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="cls")
    SentenceTransformer(modules=[transformer, pooling]).save(str(tmp_path / "cls-model"))
    name = str(tmp_path / "cls-model")
    torch_vectors = embed(TEXTS, name, precision="float32", runtime="torch")
    compiled = embed(TEXTS, name, precision="float32", runtime="openvino")
    np.testing.assert_allclose(compiled, torch_vectors, atol=1e-4)
    mean_pooled = embed(TEXTS, precision="float32", runtime="torch")
    assert np.abs(torch_vectors - mean_pooled).max() > 0.01  # CLS pooling really is different


def test_a_model_openvino_cannot_run_falls_back_to_torch_under_auto(tmp_path: Path) -> None:
    """Static word embeddings have no transformer to convert: an error when asked for, PyTorch under auto."""
    tokenizer = load_encoder().tokenizer.backend_tokenizer
    name = str(tmp_path / "static")
    SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=16)]).save(name)
    with pytest.raises(ModelUnavailableError, match="embedding_runtime: torch"):
        embed(TEXTS, name, runtime="openvino")
    assert openvino_encoder(name, "auto", "auto") is None
    np.testing.assert_array_equal(embed(TEXTS, name, runtime="auto"), embed(TEXTS, name, runtime="torch"))


def test_the_conversion_is_kept_and_read_back_by_the_next_encoder(tmp_path: Path) -> None:
    cache = tmp_path / "models" / "openvino" / "minilm"
    first = OpenVINOEncoder(load_encoder(), "float32", cache).encode(TEXTS, batch_size=8)
    written = (cache / "model.xml").stat().st_mtime_ns
    second = OpenVINOEncoder(load_encoder(), "float32", cache).encode(TEXTS, batch_size=8)
    assert (cache / "model.xml").stat().st_mtime_ns == written  # read, not converted and written again
    np.testing.assert_array_equal(second, first)
    assert not [p.name for p in cache.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_cache_that_cannot_be_written_only_costs_the_next_conversion(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    encoder = OpenVINOEncoder(load_encoder(), "float32", tmp_path / "a-file" / "minilm")
    expected = embed(TEXTS, precision="float32", runtime="torch")
    vectors = encoder.encode(TEXTS, batch_size=8)
    np.testing.assert_allclose(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), expected, atol=1e-4)


def test_a_changed_model_folder_gets_a_new_conversion_folder(tmp_path: Path, cached_hub_model: str) -> None:
    folder = tmp_path / "my-encoder"
    load_encoder().save(str(folder))
    before = openvino_conversion_dir(str(folder), tmp_path / "models")
    assert before is not None and before.parent == tmp_path / "models" / "openvino"
    assert before.name.startswith("my-encoder-")
    assert openvino_conversion_dir(str(folder), tmp_path / "models") == before
    (folder / "config.json").write_text((folder / "config.json").read_text() + "\n")
    assert openvino_conversion_dir(str(folder), tmp_path / "models") != before
    assert openvino_conversion_dir(str(folder), None) is None
    assert openvino_conversion_dir(cached_hub_model, tmp_path / "models") is None


def test_an_embedding_model_neither_packaged_nor_a_folder_nor_cached_is_said_at_once() -> None:
    # It was handed to sentence-transformers, which failed after the hub client's retries (about 36 s).
    with pytest.raises(ModelUnavailableError, match="model 'nonexistent-encoder' is not a packaged"):
        resolve_model_path("nonexistent-encoder")
