"""Shared test set-up: offline models, and the `slow` marker gate."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the naa command sets it: see naa/cli/__init__.py


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow need minutes of CPU (full data sets): they run only with NAA_SLOW=1."""
    if os.environ.get("NAA_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set NAA_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cached_hub_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A hub id the Hugging Face cache holds (a config.json in a cache of this test's own): NAA may name
    such a model though it never downloads one."""
    hub_id = "someone/a-hub-model"
    repo = tmp_path / "hub-cache" / "models--someone--a-hub-model"
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    return hub_id


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight 2-layer Llama with the real SmolLM2 tokenizer (chat template included), saved
    with save_pretrained: load it by path through the same code users run. Built once per session (~6 s)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from naa.generation.model_files import packaged_gguf

    out = tmp_path_factory.mktemp("tiny_lm")
    gguf = packaged_gguf("SmolLM2-135M-Instruct")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        # Wider than the default 0.02, whose near-uniform logits make greedy decoding repeat one token;
        # at 0.3 the reply varies with the prompt, so stop strings and sampling can be tested.
        initializer_range=0.3,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def built_partner(tmp_path_factory: pytest.TempPathFactory, tiny_lm_dir: Path) -> tuple[Path, Path]:
    """A small real partner (tests/partner_fixture.py), built once: (its YAML path, the data dir)."""
    from partner_fixture import write_partner

    from naa.builder import build_partner
    from naa.config.partner import load_partner_config
    from naa.workspace import Workspace

    root = tmp_path_factory.mktemp("partner")
    config_path = write_partner(root / "files", tiny_lm_dir)
    data_dir = root / "data"
    build_partner(load_partner_config(config_path), Workspace(data_dir))
    return config_path, data_dir
