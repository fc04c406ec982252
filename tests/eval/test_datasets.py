"""The loaders read the shared data sets as their READMEs describe them."""

from pathlib import Path

import pytest

from naa.errors import NotFoundError
from naa.eval.datasets import load_dataset
from naa.eval.intent_eval import stratified_subset
from naa.intent import OUT_OF_SCOPE

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_banking77_has_77_intents_and_no_validation_split() -> None:
    data = load_dataset("banking77", DATA_DIR)
    assert (len(data.train), len(data.test), len(data.validation)) == (10003, 3080, 0)
    assert len({e.intent for e in data.train}) == 77
    assert data.oos_train == []


def test_clinc150_marks_out_of_scope_queries() -> None:
    data = load_dataset("clinc150", DATA_DIR)
    assert len(data.train) == 15000 and len(data.oos_train) == 100
    assert sum(e.intent == OUT_OF_SCOPE for e in data.validation) == 100
    assert sum(e.intent == OUT_OF_SCOPE for e in data.test) == 1000
    assert len({e.intent for e in data.test} - {OUT_OF_SCOPE}) == 150


def test_missing_data_dir_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="--data-dir"):
        load_dataset("banking77", tmp_path)


def test_stratified_subset_keeps_every_intent() -> None:
    data = load_dataset("banking77", DATA_DIR)
    subset = stratified_subset(data.train, 154, seed=0)
    assert len(subset) == 154
    assert {e.intent for e in subset} == {e.intent for e in data.train}
