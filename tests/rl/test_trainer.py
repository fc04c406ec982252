"""Training smoke runs on a tiny random-weight Llama, a few steps each, on CPU."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from naa.config.plugins import PluginRegistry
from naa.errors import ConfigError, TrainingError
from naa.rl.config import RLConfig, Variant
from naa.rl.evaluation import evaluate_run
from naa.rl.model_version import read_manifest
from naa.rl.run_state import list_checkpoints
from naa.rl.tasks import load_tasks, save_tasks
from naa.rl.trainer import train


def _config(tmp: Path, model: Path, tasks: Path, **overrides: Any) -> RLConfig:
    fields: dict[str, Any] = {
        "model": str(model),
        "tasks": tasks,
        "output_dir": tmp / "run",
        "group_size": 3,
        "batch_prompts": 2,
        "steps": 2,
        "max_new_tokens": 8,
        "micro_batch_size": 4,
        "lora_rank": 4,
        "lr": 1e-3,
        "checkpoint_every": 1,
        **overrides,
    }
    return RLConfig(**fields)


@pytest.mark.parametrize("variant", ["vanilla", "filtered", "guide"])
def test_each_variant_trains_logs_and_checkpoints(
    variant: Variant,
    tmp_path: Path,
    tiny_lm_dir: Path,
    short_tasks_file: Path,
    graded_rewards: PluginRegistry,
) -> None:
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, variant=variant, reward="vowel_share")
    result = train(config, plugins=graded_rewards)
    assert not result.stopped and result.step == 2
    records = [json.loads(line) for line in (config.output_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    for record in records:
        assert record["groups"] == 2 and isinstance(record["loss"], float)
        assert record["kl"] is not None and record["kl"] >= 0
        assert record["completion_tokens"] > 0 and record["tokens_per_s"] > 0
        if variant == "guide":
            # vowel_share never reaches 1, so every unhinted group "fails" and is resampled with the hint;
            # the guided ratios compare the unhinted policy with the hinted sampler, so they are not all 1
            assert record["hint_fraction"] == 1.0 and record["guided_groups"] == 2
            assert record["guided_ratio_min"] != pytest.approx(1.0) or record[
                "guided_ratio_max"
            ] != pytest.approx(1.0)
            assert record["ratio_mean"] is None  # no on-policy token in the batch
        else:
            assert record["hint_fraction"] == 0.0 and record["guided_groups"] == 0
            # one optimisation pass: the policy that scores is the one that sampled, rho = 1 exactly
            assert record["ratio_min"] == pytest.approx(1.0) and record["ratio_max"] == pytest.approx(1.0)
            assert record["guided_ratio_mean"] is None
    checkpoints = sorted(p.name for p in (config.output_dir / "checkpoints").iterdir())
    assert checkpoints == ["step-000001", "step-000002"]
    manifest = read_manifest(config.output_dir)
    assert manifest.variant == variant and manifest.steps == 2
    assert (manifest.path / "config.json").is_file()


def test_guide_hints_failed_groups_and_drops_them_when_the_hint_does_not_help(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    # A random model never writes the final JSON block: every reply scores 0 under the real verifier, so
    # every group takes the hint path, and the hinted groups (all 0 again) are dropped: no gradient step.
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, variant="guide", steps=1, max_draw_rounds=2)
    result = train(config)
    (record,) = result.metrics
    assert record["reward_mean"] == 0.0 and record["hinted_reward_mean"] == 0.0
    assert record["prompts_drawn"] == 4  # 2 prompts, then 2 re-drawn
    assert record["hint_fraction"] == 1.0 and record["filtered_fraction"] == 1.0
    assert record["groups"] == 0 and record["loss"] is None


def test_a_missing_reward_plugin_is_said_before_the_warm_up(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    # It was said at the first reply scored, after the whole warm-up (27 CPU-minutes at 60 steps).
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, reward="no_such_reward", warmup_steps=60)
    warm_steps: list[int] = []
    with pytest.raises(ConfigError, match="no reward plugin named 'no_such_reward'"):
        train(config, plugins=graded_rewards, warmup_progress=lambda step, loss: warm_steps.append(step))
    assert warm_steps == [] and not (config.output_dir / "warmup").exists()


def test_a_warm_up_runs_once_before_rl_and_is_the_runs_start_model(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    # The random model scores 0 under the real verifier (test above); 40 warm-up steps on the four train
    # demonstrations teach it the final JSON block, so RL's first rollouts already earn reward.
    warm = {"warmup_steps": 40, "warmup_batch_size": 4, "warmup_lr": 5e-3}
    config = _config(
        tmp_path, tiny_lm_dir, short_tasks_file, variant="vanilla", steps=1, max_new_tokens=48, **warm
    )
    warm_steps: list[int] = []
    first = train(config, warmup_progress=lambda step, loss: warm_steps.append(step))
    assert warm_steps == list(range(1, 41))
    assert first.metrics[0]["reward_mean"] > 0
    log = json.loads((config.output_dir / "warmup" / "warmup.json").read_text())
    assert log["steps"] == 40 and log["losses"][-1] < 0.1 * log["losses"][0]

    more = train(
        config.model_copy(update={"steps": 2}), warmup_progress=lambda step, loss: warm_steps.append(step)
    )
    assert [r["step"] for r in more.metrics] == [1, 2] and len(warm_steps) == 40  # no second warm-up
    report = evaluate_run(config.output_dir, n=2, ks=(1,), split="train")
    assert report["before"]["model"] == "before" and report["before"]["pass_at"]["1"] > 0  # the warmed model
    assert report["before"]["model_path"] == str(config.output_dir / "warmup")


def test_a_stopped_run_resumes_at_the_next_step_with_the_same_result(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    straight = _config(tmp_path / "a", tiny_lm_dir, short_tasks_file, reward="vowel_share")
    expected = train(straight, plugins=graded_rewards).metrics

    resumed = _config(tmp_path / "b", tiny_lm_dir, short_tasks_file, reward="vowel_share")
    stopped = train(resumed, plugins=graded_rewards, should_stop=lambda: True)
    assert stopped.stopped and stopped.step == 1 and stopped.model_path is None
    calls: list[int] = []
    result = train(resumed, plugins=graded_rewards, progress=lambda r: calls.append(r["step"]))
    assert calls == [2]
    assert [r["step"] for r in result.metrics] == [1, 2]
    for key in ("loss", "reward_mean", "kl", "completion_tokens"):
        assert [r[key] for r in result.metrics] == pytest.approx([r[key] for r in expected]), key


def test_full_fine_tuning_with_kl_penalty_and_entropy_bonus(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    config = RLConfig(
        model=str(tiny_lm_dir),
        tasks=short_tasks_file,
        output_dir=tmp_path / "run",
        variant="filtered",
        finetune="full",
        group_size=2,
        batch_prompts=2,
        steps=2,
        max_new_tokens=6,
        kl_coef=0.1,
        entropy_coef=0.01,
        aggregation="seq_sum_norm",
        lr=1e-3,
        reward="vowel_share",
    )
    result = train(config, plugins=graded_rewards)
    first, second = result.metrics
    assert first["kl"] == 0.0  # the reference is the start model: identical at step 1
    assert second["kl"] > 0.0  # after one full-weight update the policy has moved
    assert first["entropy"] is not None and first["entropy"] > 0.0
    assert result.model_path is not None and (result.model_path / "model.safetensors").is_file()


def test_static_rollout_backend_trains_and_logs_like_generate(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    config = _config(
        tmp_path,
        tiny_lm_dir,
        short_tasks_file,
        variant="vanilla",
        reward="vowel_share",
        rollout_backend="static",
    )
    result = train(config, plugins=graded_rewards)
    assert not result.stopped and [r["step"] for r in result.metrics] == [1, 2]
    for record in result.metrics:
        assert record["groups"] == 2 and isinstance(record["loss"], float)
        assert 0 < record["completion_tokens"] <= 2 * 3 * 8 and record["generation_tokens_per_s"] > 0
        # the static sampler draws from the policy being trained: one pass scores it back at rho = 1
        assert record["ratio_min"] == pytest.approx(1.0) and record["ratio_max"] == pytest.approx(1.0)


def test_a_diverging_run_stops_with_a_message_before_logging_the_step(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, reward="vowel_share")
    # An infinite lr is refused in a run file; here it stands in for an update that overflows
    config = config.model_copy(update={"lr": float("inf")})
    with pytest.raises(TrainingError, match=r"training diverged at step 1: .* NaN or infinite .* lower lr"):
        train(config, plugins=graded_rewards)
    assert not (config.output_dir / "metrics.jsonl").read_text()  # step 1 neither logged
    assert list_checkpoints(config.output_dir) == []  # nor checkpointed


def test_a_resumed_run_trains_at_the_configs_learning_rate(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, reward="vowel_share", steps=1)
    train(config, plugins=graded_rewards)  # its checkpoint's optimizer state holds lr 1e-3
    # resumed with an infinite lr, step 2 must diverge: the saved lr would have trained on quietly
    with pytest.raises(TrainingError, match="training diverged at step 2"):
        train(config.model_copy(update={"steps": 2, "lr": float("inf")}), plugins=graded_rewards)
    resumed = train(config.model_copy(update={"steps": 2}), plugins=graded_rewards)
    assert [r["step"] for r in resumed.metrics] == [1, 2]  # step 1 kept, step 2 done once


def test_a_run_resumes_only_with_the_settings_it_trained_with(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    # A resume with another group size went on silently and rewrote config.json as if the run had had it.
    config = _config(
        tmp_path, tiny_lm_dir, short_tasks_file, reward="vowel_share", steps=1, variant="vanilla"
    )
    train(config, plugins=graded_rewards)
    saved = (config.output_dir / "config.json").read_text()
    other = config.model_copy(update={"steps": 2, "variant": "guide", "group_size": 2})
    with pytest.raises(TrainingError, match=r"\(variant: vanilla -> guide; group_size: 3 -> 2\)"):
        train(other, plugins=graded_rewards)
    assert (config.output_dir / "config.json").read_text() == saved  # still the run's own config
    longer = train(config.model_copy(update={"steps": 2, "lr": 5e-4}), plugins=graded_rewards)
    assert [r["step"] for r in longer.metrics] == [1, 2]  # more steps at a lower lr: the same run


def test_a_compiled_static_sampler_compiles_once_per_run(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    from torch._dynamo.utils import counters

    # Hints longer than the prompts: hinted batches need a wider layout than plain ones, unless the run
    # lays every batch out at its longest prompt from the start.
    long_hint = "Returns are accepted within 30 days of delivery, unopened, with the receipt. " * 8
    tasks = [t.model_copy(update={"hint": long_hint}) for t in load_tasks(short_tasks_file)]
    save_tasks(tasks, tmp_path / "tasks.jsonl")
    counters.clear()
    config = _config(
        tmp_path, tiny_lm_dir, tmp_path / "tasks.jsonl", variant="guide", reward="vowel_share",
        rollout_backend="static", compile_rollout=True,
    )  # fmt: skip
    result = train(config, plugins=graded_rewards)
    assert all(r["hint_fraction"] > 0 for r in result.metrics)  # hinted batches were sampled
    assert counters["stats"]["unique_graphs"] == 1  # inductor on CPU: about a minute


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_the_vllm_backend_without_vllm_says_what_to_install(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    config = _config(tmp_path, tiny_lm_dir, short_tasks_file, rollout_backend="vllm", warmup_steps=50)
    with pytest.raises(ConfigError, match="rollout_backend vllm needs the vllm package: pip install vllm"):
        train(config)
    assert not (config.output_dir / "warmup").exists()  # said before the warm-up, not after it
