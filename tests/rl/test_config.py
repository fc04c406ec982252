"""RLConfig: invalid combinations fail at load time, with the field to change."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from naa.errors import ConfigError
from naa.rl.config import GROUP_RULES, RLConfig


def test_defaults_are_guide_grpo_as_designed() -> None:
    config = RLConfig(tasks=Path("t.jsonl"))
    assert config.variant == "guide" and config.epsilon == 0.2 and config.gamma_quantile == 0.9
    assert (
        config.aggregation == "seq_mean_token_mean" and config.kl_coef == 0.0 and config.entropy_coef == 0.0
    )
    assert config.group_rule == GROUP_RULES["guide"]
    assert GROUP_RULES["vanilla"].drop_equal is False and GROUP_RULES["filtered"].hint_failed is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"variant": "vanilla", "gamma_mode": "constant"}, "only variant guide uses gamma_mode"),
        ({"variant": "vanilla", "max_draw_rounds": 3}, "never re-draws"),
        ({"finetune": "full", "lora_rank": 8}, "only finetune: lora uses lora_rank"),
        ({"gamma_value": 0.5}, "only with gamma_mode: constant"),
        ({"gamma_mode": "constant", "gamma_quantile": 0.5}, "only with gamma_mode: quantile"),
        ({"compile_rollout": True}, "only to rollout_backend: static"),
        ({"warmup_lr": 1e-4}, r"only a warm-up \(warmup_steps above 0\) uses warmup_lr"),
        ({"group_size": 1}, "group_size"),
        ({"aggregation": "sum"}, "aggregation"),
        ({"learning_rate": 1e-5}, "learning_rate"),
        ({"lr": float("inf")}, "lr\n  Input should be a finite number"),
    ],
)
def test_invalid_combinations_fail(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RLConfig(tasks=Path("t.jsonl"), **fields)  # type: ignore[arg-type]


def test_yaml_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rl.yaml"
    path.write_text("tasks: tasks.jsonl\nvariant: filtered\ngamma_mode: constant\n")
    with pytest.raises(ConfigError, match=r"rl\.yaml is invalid"):
        RLConfig.from_yaml(path)
    path.write_text("tasks: tasks.jsonl\nvariant: filtered\n")
    config = RLConfig.from_yaml(path)
    assert config.tasks == tmp_path / "tasks.jsonl" and config.variant == "filtered"


def test_a_model_folder_in_the_yaml_is_relative_to_the_file_too(tmp_path: Path) -> None:
    # It was taken relative to the working directory, unlike tasks and output_dir beside it.
    (tmp_path / "models" / "warm").mkdir(parents=True)
    path = tmp_path / "rl.yaml"
    for model, expected in [
        ("models/warm", str((tmp_path / "models/warm").resolve())),  # a folder beside the file
        ("../elsewhere", str((tmp_path / "../elsewhere").resolve())),  # written as a path: fails naming it
        ("SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"),  # packaged
        ("someone/a-hub-model", "someone/a-hub-model"),  # a hub id
        (str(tmp_path / "abs"), str(tmp_path / "abs")),
    ]:
        path.write_text(f"tasks: tasks.jsonl\nmodel: {model}\n")
        assert RLConfig.from_yaml(path).model == expected, model


def test_yaml_errors_name_every_field_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rl.yaml"
    path.write_text("tasks: null\nsteps: -5\nbogus: 1\n")
    with pytest.raises(ConfigError) as caught:
        RLConfig.from_yaml(path)
    message = str(caught.value)
    assert "tasks: " in message and "steps: " in message and "bogus: Extra inputs" in message
    assert "\n" not in message and "errors.pydantic.dev" not in message


def test_the_example_run_file_is_valid() -> None:
    example = Path(__file__).parents[2] / "examples" / "rl" / "run.yaml"
    config = RLConfig.from_yaml(example)
    assert config.variant == "guide" and config.warmup_steps == 60
    assert config.tasks == example.parent / "../../rl/tasks.jsonl"


def test_the_token_bound_counts_every_draw_round_epoch_and_warm_up_step() -> None:
    fields: dict[str, Any] = {"tasks": Path("t.jsonl"), "steps": 10, "batch_prompts": 4, "group_size": 8}
    guide = RLConfig(**fields, max_new_tokens=100, max_draw_rounds=3, ppo_epochs=2)
    # 10 steps x 4 prompts x 8 completions x 100 tokens x (3 rounds sampled + 2 epochs trained)
    assert guide.token_bound == 10 * 4 * 8 * 100 * 5
    vanilla = RLConfig(**fields, variant="vanilla", max_new_tokens=100, warmup_steps=5, warmup_batch_size=2)
    # vanilla draws once; the warm-up adds 5 steps x 2 demonstrations x 100 tokens
    assert vanilla.token_bound == 10 * 4 * 8 * 100 * 2 + 5 * 2 * 100
