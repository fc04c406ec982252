"""The shipped `accelerate launch --config_file` file, read by accelerate's own loader.

It is also launched for real, on 2 CPU processes (tests/rl/test_trainer_multiprocess.py); this checks the
settings a GPU launch relies on, which the CPU launch ignores.
"""

from pathlib import Path

from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType, PrecisionType

import naa.rl

CONFIGS = Path(naa.rl.__file__).parent / "accelerate_configs"


def test_the_one_shipped_config_is_data_parallel_in_bfloat16_with_the_process_count_left_to_launch() -> None:
    assert [p.name for p in CONFIGS.glob("*.yaml")] == ["multi_gpu.yaml"]
    # The loader rejects unknown keys and distributed types, so a typo fails here.
    config = load_config_from_file(str(CONFIGS / "multi_gpu.yaml"))
    assert config.distributed_type == DistributedType.MULTI_GPU
    assert PrecisionType(config.mixed_precision) == PrecisionType.BF16
    assert config.num_processes == -1  # not fixed: `--num_processes` (one per GPU) is required at launch
