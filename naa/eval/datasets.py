"""Public intent data sets read from ``../shared/data`` (see its README), never copied into the project.

Each loader returns the same split layout, so one evaluation routine serves every data set. Out-of-scope
queries carry the label ``OUT_OF_SCOPE`` whatever the data set calls them (CLINC150 says ``oos``).
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from naa.errors import ConfigError, NotFoundError
from naa.intent.base import OUT_OF_SCOPE
from naa.intent.examples import LabelledExample

DatasetName = Literal["banking77", "clinc150"]
DATASETS: tuple[DatasetName, ...] = ("banking77", "clinc150")


@dataclass(frozen=True)
class IntentDataset:
    """Train, validation and test splits; the validation split is empty where the data set has none."""

    name: str
    train: list[LabelledExample]
    validation: list[LabelledExample]
    test: list[LabelledExample]
    oos_train: list[str]  # out-of-scope training queries, usable as a reject class


def default_data_dir(repo_root: Path) -> Path:
    """The shared data folder sits beside the repository checkout, the same path as in CI."""
    return repo_root.parent / "shared" / "data"


def load_dataset(name: DatasetName, data_dir: Path) -> IntentDataset:
    """Load one named data set from ``data_dir``."""
    if name == "banking77":
        return load_banking77(data_dir)
    if name == "clinc150":
        return load_clinc150(data_dir)
    raise ConfigError(f"unknown intent data set {name!r}: choose one of {', '.join(DATASETS)}")


def load_banking77(data_dir: Path) -> IntentDataset:
    """Banking77 (PolyAI, CC BY 4.0): ``train.csv`` and ``test.csv`` with columns ``text,category``."""
    folder = data_dir / "banking77"
    return IntentDataset(
        name="banking77",
        train=_read_banking77_csv(folder / "train.csv"),
        validation=[],
        test=_read_banking77_csv(folder / "test.csv"),
        oos_train=[],
    )


def load_clinc150(data_dir: Path) -> IntentDataset:
    """CLINC150 (Larson et al. 2019, CC BY 3.0), ``data_full.json``; validation = ``val`` + ``oos_val``."""
    path = data_dir / "clinc150" / "data_full.json"
    raw = json.loads(_read_text(path))
    try:
        return IntentDataset(
            name="clinc150",
            train=_clinc_pairs(raw["train"]),
            validation=_clinc_pairs(raw["val"]) + _clinc_oos(raw["oos_val"]),
            test=_clinc_pairs(raw["test"]) + _clinc_oos(raw["oos_test"]),
            oos_train=[text for text, _ in raw["oos_train"]],
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{path} is not the CLINC150 data_full.json layout: {err}") from err


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise NotFoundError(
            f"data set file {path} is missing: pass --data-dir pointing at shared/data"
        ) from err


def _read_banking77_csv(path: Path) -> list[LabelledExample]:
    rows = csv.DictReader(_read_text(path).splitlines())
    try:
        return [LabelledExample(row["text"], row["category"]) for row in rows]
    except KeyError as err:
        raise ConfigError(f"{path} must have the columns text,category") from err


def _clinc_pairs(items: list[list[str]]) -> list[LabelledExample]:
    return [LabelledExample(text, intent) for text, intent in items]


def _clinc_oos(items: list[list[str]]) -> list[LabelledExample]:
    return [LabelledExample(text, OUT_OF_SCOPE) for text, _ in items]
