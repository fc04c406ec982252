"""pass@k, compression and capability gain on hand-built counts; a full `evaluate_run` on a tiny run."""

import json
from pathlib import Path

import pytest

from naa.config.plugins import PluginRegistry
from naa.errors import ConfigError
from naa.rl.config import RLConfig
from naa.rl.evaluation import (
    EvalResult,
    TaskResult,
    compare,
    evaluate_model,
    evaluate_run,
    format_table,
    pass_at_k,
    plan_evaluation,
)
from naa.rl.model_version import read_manifest
from naa.rl.policy import load_causal_lm
from naa.rl.rewards import RewardScorer
from naa.rl.rollout import SamplingSettings
from naa.rl.task_generator import TaskSources, generate_tasks
from naa.rl.tasks import load_tasks, save_tasks
from naa.rl.trainer import train


def test_pass_at_k_unbiased_estimator() -> None:
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)  # c / n
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 3) == pytest.approx(0.9)  # 1 - C(3,3)/C(5,3) = 1 - 1/10
    assert pass_at_k(4, 0, 4) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    with pytest.raises(ValueError, match=r"0 < k <= n"):
        pass_at_k(2, 1, 3)


def _result(name: str, correct: list[int]) -> EvalResult:
    return EvalResult(name, [TaskResult(f"t{i}", "refusal", 4, c, c / 4) for i, c in enumerate(correct)])


def test_compression_gain_and_loss_per_task() -> None:
    # t0: 1/4 right before (pass@1 0.25, pass@4 1) -> 3/4 after (pass@1 0.75): compression
    # t1: 0/4 before (pass@4 0) -> 1/4 after (pass@4 1): capability gain
    # t2: 4/4 before -> 0/4 after: lost;  t3: 0/4 -> 0/4: nothing
    before, after = _result("before", [1, 0, 4, 0]), _result("after", [3, 1, 0, 0])
    got = compare(before, after, k=4)
    assert got["compression"] == 0.25 and got["capability_gain"] == 0.25 and got["lost"] == 0.25
    assert (got["compressed_tasks"], got["gained_tasks"], got["lost_tasks"]) == (1, 1, 1)
    # mean pass@1 before: (0.25 + 0 + 1 + 0) / 4 = 0.3125; after: (0.75 + 0.25 + 0 + 0) / 4 = 0.25
    assert before.pass_at(1) == pytest.approx(0.3125) and after.pass_at(1) == pytest.approx(0.25)
    table = format_table(before, after, [1, 4])
    rows = [line.split() for line in table.splitlines()]
    assert rows[2] == ["pass@1", "0.312", "0.250", "-0.062"] and rows[3] == [
        "pass@4",
        "0.500",
        "0.500",
        "+0.000",
    ]


def test_evaluate_run_writes_json_plot_and_manifest_metrics(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    config = RLConfig(
        model=str(tiny_lm_dir),
        tasks=short_tasks_file,
        output_dir=tmp_path / "run",
        variant="vanilla",
        group_size=2,
        batch_prompts=2,
        steps=1,
        max_new_tokens=6,
        lora_rank=2,
        reward="vowel_share",
        success_threshold=0.3,  # a vowel share of 30% counts as correct, so pass@k is not all zero
    )
    train(config, plugins=graded_rewards)
    with pytest.raises(ConfigError, match="n >= k"):
        evaluate_run(config.output_dir, n=2, ks=(1, 4), plugins=graded_rewards)
    report = evaluate_run(config.output_dir, n=3, ks=(1, 3), plugins=graded_rewards)
    assert [t["task_id"] for t in report["before"]["tasks"]] == ["refusal-4", "refusal-5"]
    saved = json.loads((config.output_dir / "eval.json").read_text())
    assert saved["comparison"]["k"] == 3 and set(saved["after"]["pass_at"]) == {"1", "3"}
    assert 0.0 <= saved["after"]["pass_at"]["1"] <= saved["after"]["pass_at"]["3"] <= 1.0
    assert (config.output_dir / "eval.png").read_bytes()[:4] == b"\x89PNG"
    assert read_manifest(config.output_dir).metrics["heldout_pass@3"] == saved["after"]["pass_at"]["3"]
    assert saved["after"]["model_path"] == str(read_manifest(config.output_dir).path)

    # A limit takes tasks of each type in turn: the generator writes a file type by type, so the first
    # five held-out tasks were all refund computations.
    mixed = tmp_path / "mixed.jsonl"
    save_tasks(generate_tasks(TaskSources.demo(), per_template=10), mixed)
    plan = plan_evaluation(config.output_dir, n=3, ks=(1,), tasks_path=mixed, split="heldout", limit=5)
    assert len({task.type for task in plan.tasks}) == 5


def test_the_static_backend_evaluates_as_generate_does(
    tiny_lm_dir: Path, short_tasks_file: Path, graded_rewards: PluginRegistry
) -> None:
    model, tokenizer = load_causal_lm(str(tiny_lm_dir), "float32")
    tasks = load_tasks(short_tasks_file, split="heldout")
    greedy = SamplingSettings(6, 1.0, 1e-6, 4)  # top-p this small keeps only the most likely token
    scorer = RewardScorer(graded_rewards, default="vowel_share")
    results = [
        evaluate_model(
            model, tokenizer, tasks, name=backend, n=2, settings=greedy, scorer=scorer, backend=backend
        )
        for backend in ("transformers", "static")
    ]
    generate, static = ([(t.task_id, t.reward_mean) for t in r.tasks] for r in results)
    assert static == generate and any(reward > 0 for _, reward in generate)
