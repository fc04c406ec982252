"""The processes of one run: `accelerate launch` starts one per GPU (or several CPU processes with gloo),
each running the whole `naa rl train`; with no launcher there is one.

What they exchange is here: per-process values gathered into rows, tensors with different row counts, and
which process reports. The trainer decides what to gather; nothing here knows about RL.

    accelerator = make_accelerator()
    rows = per_process(accelerator, [kept_groups, tokens])   # (P, 2), the same on every process
"""

import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import DistributedType
from torch import Tensor

from naa.errors import TrainingError


def _cpu_only() -> bool:
    return not torch.cuda.is_available()


def make_accelerator() -> Accelerator:
    """The run's Accelerator: on CPU without CUDA (gloo between processes).

    Raises:
        TrainingError: launched with FSDP or DeepSpeed. Rollouts and scoring run the unwrapped module, and
            checkpoints hold the main process's weights and optimizer state: both assume every process
            holds all of them, as under DDP, where FSDP and ZeRO shard them. DeepSpeed also steps the
            optimizer on every backward, where the trainer accumulates micro-batches.
    """
    accelerator = Accelerator(cpu=_cpu_only())
    kind = accelerator.distributed_type
    if kind in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        raise TrainingError(
            f"naa rl train runs data-parallel (DDP) only, not {kind.value}: its rollouts, scoring and "
            "checkpoints need whole weights on every process; launch with "
            "naa/rl/accelerate_configs/multi_gpu.yaml"
        )
    return accelerator


def is_main_process() -> bool:
    """True in the process that writes the run and reports progress: the only one, or the main one of
    several started by ``accelerate launch``."""
    return PartialState(cpu=_cpu_only()).is_main_process


def process_count() -> int:
    """How many processes run the training: 1, or as many as ``accelerate launch`` started."""
    return PartialState(cpu=_cpu_only()).num_processes


def per_process(accelerator: Accelerator, values: list[float]) -> Tensor:
    """``(P, K)``: row p holds process p's ``values`` (one all-gather; just the row with one process)."""
    row = torch.tensor([values], dtype=torch.float64, device=accelerator.device)  # (1, K)
    return accelerator.gather(row) if accelerator.num_processes > 1 else row


def gather_rows(accelerator: Accelerator, tensor: Tensor) -> Tensor:
    """Every process's rows stacked, zero-padded to the most rows and columns (mask the padding out).

    Processes keep different numbers of groups, and all-gather needs one shape on every process.
    """
    if accelerator.num_processes == 1:
        return tensor
    for dim in range(tensor.dim()):
        tensor = accelerator.pad_across_processes(tensor, dim=dim)
    return accelerator.gather(tensor)
