"""Shared test set-up: offline models, and the `slow` marker gate."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow need minutes of CPU (full data sets): they run only with NAA_SLOW=1."""
    if os.environ.get("NAA_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set NAA_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
