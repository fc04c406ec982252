"""The usage examples in the retrieval docstrings run as written."""

import doctest
from types import ModuleType

import pytest

from naa.retrieval import base, knowledge_base, rerank


@pytest.mark.parametrize("module", [base, knowledge_base, rerank])
def test_docstring_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module, raise_on_error=False)
    assert result.failed == 0
