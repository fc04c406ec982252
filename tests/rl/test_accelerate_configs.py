"""The shipped `accelerate launch --config_file` files, read by accelerate's own loader and launch parser.

Only the DDP file is also launched (tests/rl/test_trainer_multiprocess.py); FSDP needs a GPU to build its
plugin and DeepSpeed its package, so for those this is the whole check: a typo in a key or a value fails.
"""

from pathlib import Path

import pytest
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.commands.launch import launch_command_parser
from accelerate.utils import DistributedType, PrecisionType
from accelerate.utils.constants import (
    FSDP_AUTO_WRAP_POLICY,
    FSDP_BACKWARD_PREFETCH,
    FSDP_SHARDING_STRATEGY,
    FSDP_STATE_DICT_TYPE,
)
from transformers import LlamaForCausalLM

import naa.rl

CONFIGS = Path(naa.rl.__file__).parent / "accelerate_configs"
EXPECTED = {
    "multi_gpu.yaml": DistributedType.MULTI_GPU,
    "fsdp.yaml": DistributedType.FSDP,
    "deepspeed_zero2.yaml": DistributedType.DEEPSPEED,
}


def test_every_shipped_config_is_tested() -> None:
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_loads_and_every_nested_key_is_a_launch_option(name: str) -> None:
    # The loader rejects unknown top-level keys and distributed types; nested fsdp/deepspeed keys become
    # `accelerate launch --<key> <value>` options, so the launch parser checks their names and types.
    config = load_config_from_file(str(CONFIGS / name))
    assert config.distributed_type == EXPECTED[name]
    assert PrecisionType(config.mixed_precision) == PrecisionType.BF16
    assert config.num_processes == -1  # not fixed: `--num_processes` (one per GPU) is required at launch
    nested = {**config.fsdp_config, **config.deepspeed_config}
    parser = launch_command_parser()
    for key, value in nested.items():
        # an unknown option (or a value of the wrong type or choice) exits with argparse's message
        assert key in vars(parser.parse_args([f"--{key}", str(value), "train.py"])), key


def test_fsdp_shards_fully_and_wraps_the_llama_decoder_layer() -> None:
    fsdp = load_config_from_file(str(CONFIGS / "fsdp.yaml")).fsdp_config
    assert fsdp["fsdp_sharding_strategy"] == "FULL_SHARD" and "FULL_SHARD" in FSDP_SHARDING_STRATEGY
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP" and "TRANSFORMER_BASED_WRAP" in (
        FSDP_AUTO_WRAP_POLICY
    )
    assert fsdp["fsdp_backward_prefetch"] in FSDP_BACKWARD_PREFETCH
    assert fsdp["fsdp_state_dict_type"] in FSDP_STATE_DICT_TYPE
    # the class transformers itself keeps whole when splitting the default generator's family
    assert [fsdp["fsdp_transformer_layer_cls_to_wrap"]] == LlamaForCausalLM._no_split_modules


def test_deepspeed_is_zero_stage_2_and_clips_like_the_trainer() -> None:
    deepspeed = load_config_from_file(str(CONFIGS / "deepspeed_zero2.yaml")).deepspeed_config
    assert deepspeed["zero_stage"] == 2
    assert deepspeed["gradient_accumulation_steps"] == 1
    assert deepspeed["gradient_clipping"] == 1.0  # RLConfig.max_grad_norm's default
