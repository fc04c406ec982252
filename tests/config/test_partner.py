"""Partner files: paths resolved against the file's folder, handoff intents checked against the examples."""

from pathlib import Path

import pytest
import yaml

from naa.config.partner import PartnerConfig, check_text_paths, load_partner_config
from naa.errors import ConfigError

INTENTS = {"greeting": ["hi", "hello"], "complaint": ["this is bad", "I want to complain"]}


def _partner_file(folder: Path, **settings: object) -> Path:
    (folder / "intents.yaml").write_text(yaml.safe_dump(INTENTS))
    path = folder / "partner.yaml"
    path.write_text(
        yaml.safe_dump({"id": "acme", "name": "Acme", "intent": {"examples": "intents.yaml"}, **settings})
    )
    return path


def test_handoff_intents_the_examples_define_are_accepted(tmp_path: Path) -> None:
    handoff = {"always": ["complaint", "out_of_scope"], "smalltalk": {"greeting": "Hello!"}}
    config = load_partner_config(_partner_file(tmp_path, handoff=handoff))
    assert config.handoff.always == ["complaint", "out_of_scope"]
    assert config.intent.examples == (tmp_path / "intents.yaml").resolve()  # type: ignore[union-attr]


def test_an_always_handoff_intent_the_examples_lack_is_one_error_line(tmp_path: Path) -> None:
    # It was accepted, and the rule silently never fired.
    path = _partner_file(tmp_path, handoff={"always": ["no_such_intent"]})
    with pytest.raises(ConfigError) as err:
        load_partner_config(path)
    assert str(err.value) == (
        f"partner config {path}: handoff.always: intent 'no_such_intent' is not defined by the intent "
        f"examples in {(tmp_path / 'intents.yaml').resolve()}: fix the name, or add examples for it to "
        "that file"
    )


def test_a_misspelt_smalltalk_intent_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    path = _partner_file(tmp_path, handoff={"smalltalk": {"greting": "Hello!", "bye": "Bye!"}})
    with pytest.raises(ConfigError) as err:
        load_partner_config(path)
    assert "handoff.smalltalk: intents 'bye', 'greting' (did you mean 'greeting'?) are not" in str(err.value)
    assert str(err.value).endswith(": fix the names, or add examples for them to that file")


def test_intents_are_not_checked_where_they_are_unknowable(tmp_path: Path) -> None:
    unknown = {"always": ["no_such_intent"]}
    missing = _partner_file(tmp_path, handoff=unknown)
    (tmp_path / "intents.yaml").unlink()  # the build says that the file is missing
    assert load_partner_config(missing).handoff.always == ["no_such_intent"]
    plugin = tmp_path / "plugin.yaml"
    plugin.write_text(
        yaml.safe_dump(
            {"id": "acme", "name": "Acme", "intent": {"backend": "plugin", "name": "x"}, "handoff": unknown}
        )
    )
    assert load_partner_config(plugin).handoff.always == ["no_such_intent"]
    _partner_file(tmp_path, handoff=unknown)
    assert load_partner_config(missing, check_intents=False).handoff.always == ["no_such_intent"]


def test_paths_of_a_config_given_as_text_must_be_absolute_and_exist(tmp_path: Path) -> None:
    (tmp_path / "partners" / "acme").mkdir(parents=True)
    (tmp_path / "partners" / "acme" / "intents.yaml").write_text(yaml.safe_dump(INTENTS))
    bases = (tmp_path / "partners" / "acme", tmp_path)

    def check(**settings: object) -> None:
        check_text_paths(
            PartnerConfig.model_validate({"id": "acme", "name": "Acme", **settings}), "config_yaml", bases
        )

    with pytest.raises(ConfigError) as err:
        check(knowledge_base={"sources": ["kb"]})
    assert str(err.value) == (
        "config_yaml: knowledge_base.sources.0: 'kb' is a relative path, and a config sent as text has no "
        "folder to resolve it against: give the absolute path on the server"
    )
    # A relative path found in the partner's folder in the data dir: the message names the path to write.
    found = str((tmp_path / "partners" / "acme" / "intents.yaml").resolve())
    with pytest.raises(ConfigError, match=f"config_yaml: intent.examples: .* write '{found}'$"):
        check(intent={"examples": "intents.yaml"})
    with pytest.raises(
        ConfigError, match=r"intent\.examples: '/nowhere/intents\.yaml' does not exist on the server"
    ):
        check(intent={"examples": "/nowhere/intents.yaml"})
    check(intent={"examples": found}, knowledge_base={"sources": [str(tmp_path)]})


@pytest.mark.parametrize(
    ("model", "read_as"),
    [
        ("models/mine", "{folder}/models/mine"),  # a folder beside the file
        ("./missing", "{folder}/missing"),  # written as a path: its error names the folder meant
        ("SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"),  # packaged
        ("version:guide-1", "version:guide-1"),
        ("org/some-model", "org/some-model"),  # a hub id
    ],
)
def test_a_generator_model_folder_is_relative_to_the_file_too(
    tmp_path: Path, model: str, read_as: str
) -> None:
    # It was looked up in the working directory, unlike the file's examples and sources: `naa serve` and
    # `naa build` then found the model only when started from the file's folder.
    (tmp_path / "models" / "mine").mkdir(parents=True)
    config = load_partner_config(_partner_file(tmp_path, generation={"model": model}))
    assert config.generation.model == read_as.format(folder=tmp_path.resolve())  # type: ignore[union-attr]
