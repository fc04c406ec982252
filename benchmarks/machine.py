"""What machine a benchmark ran on, for its JSON: the same "2 cores" can be another processor from one
session to the next, and CPU figures here moved by 2x between an AMD EPYC and an Intel Xeon with AMX."""

import os
import platform
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (platform.processor() says only "x86_64" on Linux)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def describe() -> dict[str, Any]:
    """CPU count and model, platform, and whether the CPU multiplies bfloat16 in hardware."""
    import torch

    from naa.embeddings import native_bfloat16

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "bfloat16_native": native_bfloat16(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
