"""Partner training files: labelled customer utterances, one intent each.

Two layouts are accepted so partners can export from a spreadsheet or write by hand:
a YAML mapping ``intent_name: [example, ...]`` or a CSV file with the header ``text,intent``
(or ``text,category``, as Banking77 has it).
Every problem is reported with the file name and what to change, before any training starts.
"""

import csv
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import yaml

from naa.errors import ConfigError
from naa.user_files import read_user_text

MIN_EXAMPLES_PER_INTENT = 2
MAX_INTENT_NAME_CHARS = 200  # stored with each answered turn (messages.intent)


@dataclass(frozen=True)
class LabelledExample:
    """One customer utterance and the intent it expresses."""

    text: str
    intent: str


def read_examples(path: Path, known_intents: Collection[str] | None = None) -> list[LabelledExample]:
    """Read and check a partner training file (``.yaml``/``.yml`` or ``.csv``).

    Args:
        path: the training file.
        known_intents: when given, every intent in the file must be one of these.

    Raises:
        NotFoundError: the file does not exist.
        ConfigError: the file is malformed or empty, a text is empty, an intent has fewer than
            two examples, or an intent is unknown.
    """
    content = read_user_text(path, "intent examples file")
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        examples = _parse_yaml(content, path)
    elif suffix == ".csv":
        examples = _parse_csv(content, path)
    else:
        raise ConfigError(f"intent examples file {path} must end in .yaml, .yml or .csv")
    check_examples(examples, str(path), known_intents)
    return examples


def check_examples(
    examples: Collection[LabelledExample], source: str, known_intents: Collection[str] | None = None
) -> None:
    """Refuse training sets a classifier cannot learn from; ``source`` names them in the message."""
    if not examples:
        raise ConfigError(f"{source} holds no labelled examples: add at least two examples per intent")
    for example in examples:
        if not example.text.strip():
            raise ConfigError(f"{source}: intent {example.intent!r} has an empty example text: remove it")
        if not example.intent.strip():
            raise ConfigError(f"{source}: example {example.text!r} has no intent: add one")
        if len(example.intent) > MAX_INTENT_NAME_CHARS:
            raise ConfigError(
                f"{source}: intent {example.intent[:40]!r}... has {len(example.intent)} characters; "
                f"the limit is {MAX_INTENT_NAME_CHARS}: shorten the name"
            )
    counts = Counter(example.intent for example in examples)
    if len(counts) < 2:
        raise ConfigError(
            f"{source} has a single intent {next(iter(counts))!r}: add at least one more intent"
        )
    few = sorted(intent for intent, n in counts.items() if n < MIN_EXAMPLES_PER_INTENT)
    if few:
        raise ConfigError(
            f"{source}: intents {', '.join(few)} have fewer than {MIN_EXAMPLES_PER_INTENT} examples: add more"
        )
    if known_intents is not None:
        unknown = sorted(set(counts) - set(known_intents))
        if unknown:
            raise ConfigError(
                f"{source}: unknown intents {', '.join(unknown)}: fix the names or declare them"
            )


def _parse_yaml(content: str, path: Path) -> list[LabelledExample]:
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as err:
        raise ConfigError(f"intent examples file {path} is not valid YAML: {err}") from err
    if raw is None:
        raise ConfigError(f"intent examples file {path} is empty: add 'intent_name: [examples]' entries")
    if not isinstance(raw, dict):
        raise ConfigError(f"intent examples file {path} must be a mapping 'intent_name: [example texts]'")
    examples: list[LabelledExample] = []
    for intent, texts in raw.items():
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise ConfigError(f"{path}: intent {intent!r} must map to a list of example texts")
        examples.extend(LabelledExample(text.strip(), str(intent).strip()) for text in texts)
    return examples


def _parse_csv(content: str, path: Path) -> list[LabelledExample]:
    reader = csv.DictReader(content.splitlines())
    if reader.fieldnames is None:
        raise ConfigError(f"intent examples file {path} is empty: add the header 'text,intent' and rows")
    # `category` is the label column of public intent data sets such as Banking77, accepted as is.
    label = next((c for c in ("intent", "category") if c in reader.fieldnames), None)
    if "text" not in reader.fieldnames or label is None:
        raise ConfigError(f"{path} must have the header 'text,intent', found {','.join(reader.fieldnames)}")
    examples = []
    for line, row in enumerate(reader, start=2):
        if row["text"] is None or row[label] is None:
            raise ConfigError(f"{path} line {line}: expected two columns text,{label}")
        examples.append(LabelledExample(row["text"].strip(), row[label].strip()))
    return examples
