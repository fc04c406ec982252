"""Model resolution: packaged names, local folders, hub ids, and the one-time GGUF conversion."""

from pathlib import Path

import pytest

from naa.errors import ModelUnavailableError
from naa.generation import ChatMessage, SamplingParams, build_generator
from naa.generation.config import TransformersGeneratorConfig
from naa.generation.model_files import convert_gguf, ensure_converted, packaged_gguf, resolve_model_source

SMOLLM2 = "SmolLM2-135M-Instruct"


def test_packaged_model_file_is_found_without_importing_its_package() -> None:
    path = packaged_gguf(SMOLLM2)
    assert path.name.endswith(".gguf")
    assert path.stat().st_size > 50_000_000


def test_local_folder_is_used_as_is(tiny_lm_dir: Path, tmp_path: Path) -> None:
    assert resolve_model_source(str(tiny_lm_dir), tmp_path) == str(tiny_lm_dir)


def test_cached_hub_ids_pass_through_and_paths_must_exist(tmp_path: Path, cached_hub_model: str) -> None:
    # A name neither packaged, nor a folder, nor cached was handed to transformers, which failed only
    # after the hub client's retries (about 50 s), with a message about internet connections.
    with pytest.raises(ModelUnavailableError, match=r"not a packaged model .* or in the Hugging Face cache"):
        resolve_model_source("HuggingFaceTB/SmolLM2-360M-Instruct", tmp_path)
    assert resolve_model_source(cached_hub_model, tmp_path) == cached_hub_model
    with pytest.raises(ModelUnavailableError, match="models/missing"):
        resolve_model_source(str(tmp_path / "models" / "missing"), tmp_path)
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        resolve_model_source("./relative/missing", tmp_path)


def test_converted_tokenizer_ends_replies_where_the_model_config_does(tmp_path: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    convert_gguf(packaged_gguf(SMOLLM2), tmp_path)
    tokenizer, config = AutoTokenizer.from_pretrained(tmp_path), AutoConfig.from_pretrained(tmp_path)
    # transformers 5.17 read <|im_start|> as the end token; a warm-up on it taught that ending
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.eos_token_id == config.eos_token_id


@pytest.mark.slow
def test_packaged_model_is_converted_once_then_loaded_from_safetensors(tmp_path: Path) -> None:
    target = ensure_converted(SMOLLM2, tmp_path)
    assert target == tmp_path / SMOLLM2
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in target.iterdir()}
    assert [p.name for p in tmp_path.iterdir()] == [SMOLLM2]  # no temporary folder left behind
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    generator = build_generator(TransformersGeneratorConfig(), tmp_path)
    reply = generator.generate([ChatMessage("user", "Say hello.")], SamplingParams(max_new_tokens=8))
    assert reply.text.strip()
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp  # the second use did not convert again


def test_conversion_never_overwrites_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / SMOLLM2).mkdir()
    (tmp_path / SMOLLM2 / "notes.txt").write_text("not a model")
    with pytest.raises(ModelUnavailableError, match=f"{SMOLLM2}.*remove that folder"):
        ensure_converted(SMOLLM2, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [SMOLLM2]
    assert [p.name for p in (tmp_path / SMOLLM2).iterdir()] == ["notes.txt"]
