"""Reading partner training files, and the one-line errors for files that cannot be trained on."""

from pathlib import Path

import pytest

from naa.errors import ConfigError, NotFoundError
from naa.intent import LabelledExample, read_examples


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_reads_a_yaml_mapping(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "i.yaml", "greeting:\n- hi\n- ' hello '\nrefund:\n- I want my money back\n- refund please\n"
    )
    assert read_examples(path) == [
        LabelledExample("hi", "greeting"),
        LabelledExample("hello", "greeting"),
        LabelledExample("I want my money back", "refund"),
        LabelledExample("refund please", "refund"),
    ]


def test_reads_a_csv_with_text_and_intent(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "i.csv",
        'text,intent\nhi,greeting\nhello,greeting\n"refund, please",refund\nmoney back,refund\n',
    )
    examples = read_examples(path)
    assert examples[2] == LabelledExample("refund, please", "refund")
    assert len(examples) == 4


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("i.yaml", "", "is empty"),
        ("i.yaml", "greeting: [hi\n", "not valid YAML"),
        ("i.yaml", "- hi\n- hello\n", "must be a mapping"),
        ("i.yaml", "greeting: hi\n", "list of example texts"),
        ("i.yaml", "greeting: [hi, '  ']\nrefund: [a, b]\n", "empty example text"),
        ("i.yaml", "greeting: [hi]\nrefund: [a, b]\n", "fewer than 2 examples"),
        ("i.yaml", "greeting: [hi, hello]\n", "single intent"),
        ("i.yaml", f"{'x' * 201}: [hi, hello]\nrefund: [a, b]\n", "201 characters; the limit is 200"),
        ("i.csv", "", "is empty"),
        ("i.csv", "utterance,label\nhi,greeting\n", "header 'text,intent'"),
        ("i.csv", "text,intent\nhi\n", "line 2"),
        ("i.txt", "hi", "must end in .yaml"),
    ],
)
def test_malformed_files_fail_with_a_clear_message(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(ConfigError, match=message) as info:
        read_examples(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value).strip() or "YAML" in str(info.value)


def test_unknown_intents_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "i.yaml", "greeting: [hi, hello]\nrefnud: [a, b]\n")
    with pytest.raises(ConfigError, match="unknown intents refnud"):
        read_examples(path, known_intents={"greeting", "refund"})


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_examples(tmp_path / "missing.yaml")


def test_banking77_csv_with_a_category_column_is_read_as_intents() -> None:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking77" / "train.csv"
    if not path.exists():
        pytest.skip(f"{path} is not here")

    examples = read_examples(path)

    assert len(examples) == 10003
    assert len({e.intent for e in examples}) == 77
