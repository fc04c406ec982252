"""`naa rl` end to end through Typer: generate tasks, train a tiny model one step, evaluate it."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from naa.cli.rl import _StopRequest, app
from naa.rl.tasks import load_tasks

runner = CliRunner()


def test_tasks_generate_writes_a_valid_split_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tasks", "generate", "--out", str(tmp_path), "--per-template", "4"])
    assert result.exit_code == 0, result.output
    tasks = load_tasks(tmp_path / "tasks.jsonl")
    assert {t.split for t in tasks} == {"train", "heldout"}
    assert f"wrote {len(tasks)} tasks" in result.output


def test_tasks_check_counts_a_valid_file_and_names_the_first_bad_line(tmp_path: Path) -> None:
    assert (
        runner.invoke(app, ["tasks", "generate", "--out", str(tmp_path), "--per-template", "2"]).exit_code
        == 0
    )
    path = tmp_path / "tasks.jsonl"
    valid = runner.invoke(app, ["tasks", "check", str(path)])
    assert valid.exit_code == 0, valid.output
    assert f"{len(load_tasks(path))} valid tasks" in " ".join(valid.output.split())

    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1].replace('"hint":', '"hnt":')]))
    invalid = runner.invoke(app, ["tasks", "check", str(path)])
    assert invalid.exit_code == 1
    assert invalid.output.startswith("error: ") and "Traceback" not in invalid.output
    assert "tasks.jsonl:2 is not a valid task: hint: Field required" in " ".join(invalid.output.split())

    path.write_bytes(b"\xff\xfe")
    not_text = runner.invoke(app, ["tasks", "check", str(path)])
    assert not_text.exit_code == 1 and "save it as UTF-8 text" in " ".join(not_text.output.split())


def test_an_output_path_that_cannot_be_written_is_one_line_before_any_work(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file where the folder would go")
    result = runner.invoke(app, ["tasks", "generate", "--out", str(taken / "rl")])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert str(taken) in " ".join(result.output.split())


def test_train_then_eval(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    config = tmp_path / "rl.yaml"
    config.write_text(
        f"model: {tiny_lm_dir}\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: vanilla\n"
        "group_size: 2\nbatch_prompts: 2\nsteps: 1\nmax_new_tokens: 4\nlora_rank: 2\n"
    )
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "trained 1 steps" in result.output
    # Each step's metrics on a line of their own (in the bar's description they were cut at 80 columns).
    assert re.search(r"step 1: reward \S+ hints \S+ filtered \S+ loss \S+ \d+ tok/s", result.output)
    run = tmp_path / "run"
    result = runner.invoke(app, ["eval", "--run", str(run), "--n", "2", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "pass@2" in result.output and "capability gain" in result.output
    assert json.loads((run / "eval.json").read_text())["ks"] == [1, 2]


def test_a_model_folder_relative_to_the_run_file_trains_resumes_and_evaluates_from_anywhere(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `model:` was taken relative to the working directory (the run file says paths are relative to it),
    # and config.json kept it so: `naa rl eval` from another directory could not load the start model.
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    shutil.copytree(tiny_lm_dir, tmp_path / "project" / "models" / "start")
    (tmp_path / "project" / "runs").mkdir()
    config = tmp_path / "project" / "runs" / "rl.yaml"
    config.write_text(
        f"model: ../models/start\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: vanilla\n"
        "group_size: 2\nbatch_prompts: 2\nsteps: 1\nmax_new_tokens: 4\nlora_rank: 2\n"
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    run = config.parent / "run"
    assert json.loads((run / "config.json").read_text())["model"] == str(tmp_path / "project/models/start")

    monkeypatch.chdir(run)  # elsewhere: the saved absolute path loads, and the same folder resumes
    config.write_text(config.read_text().replace("steps: 1", "steps: 2"))
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", "--run", str(run), "--n", "1", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads((run / "eval.json").read_text())["before"]["model_path"] == str(
        tmp_path / "project/models/start"
    )


def test_a_run_that_never_optimised_says_its_model_is_the_start_model(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "trained 2 steps" alone read as a trained model; a random model never earns a reward, so every
    # group is filtered out and the final model is the start model.
    monkeypatch.setenv("NAA_DATA_DIR", str(tmp_path / "data"))
    config = tmp_path / "rl.yaml"
    config.write_text(
        f"model: {tiny_lm_dir}\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: filtered\n"
        "group_size: 2\nbatch_prompts: 1\nmax_draw_rounds: 1\nsteps: 2\nmax_new_tokens: 4\nlora_rank: 2\n"
    )
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "trained 2 steps" in said and "so the trained model is the start model" in said


def test_a_bad_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "rl.yaml"
    config.write_text("tasks: t.jsonl\nvariant: vanilla\ngamma_mode: constant\n")
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 1
    assert "only variant guide uses" in result.output


def test_a_stopped_run_says_where_it_stopped_and_how_to_resume(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    # SIGTERM ended the process without a word; Ctrl-C printed only "Aborted!".
    config = tmp_path / "rl.yaml"
    config.write_text(
        f"model: {tiny_lm_dir}\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: vanilla\n"
        "group_size: 2\nbatch_prompts: 2\nsteps: 1000\nmax_new_tokens: 4\nlora_rank: 2\ncheckpoint_every: 1\n"
    )
    env = {**os.environ, "NAA_DATA_DIR": str(tmp_path / "data")}
    naa = str(Path(sys.executable).parent / "naa")
    with subprocess.Popen(
        [naa, "rl", "train", "--config", str(config)], env=env, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if line.startswith("step 2:"):
                process.send_signal(signal.SIGTERM)
                break
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, "".join(lines) + rest
    said = " ".join(rest.split())  # rich wraps lines at 80 columns on a pipe
    assert re.search(r"stopped: its last checkpoint is step-\d+ in \S*run; run the same command", said), rest


def _train_two_steps(config: Path, env: dict[str, str]) -> str:
    """Run `naa rl train`, press Ctrl-C once it logged two steps; what it said after that."""
    naa = str(Path(sys.executable).parent / "naa")
    with subprocess.Popen(
        [naa, "rl", "train", "--config", str(config)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # as in a terminal: a test run in the background inherits Ctrl-C ignored, which naa respects
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if sum(line.startswith("step ") for line in lines) == 2:
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, "".join(lines) + rest
    return " ".join(rest.split())


def _logged_steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_ctrl_c_stops_after_the_current_step_with_a_checkpoint_and_the_rerun_goes_on_from_it(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    # Ctrl-C lost every step since the last checkpoint (checkpoint_every of them, minutes each on a CPU).
    config = tmp_path / "rl.yaml"
    config.write_text(
        f"model: {tiny_lm_dir}\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: vanilla\n"
        "group_size: 2\nbatch_prompts: 2\nsteps: 1000\nmax_new_tokens: 4\nlora_rank: 2\n"
        "checkpoint_every: 1000\n"
    )
    env = {**os.environ, "NAA_DATA_DIR": str(tmp_path / "data")}
    said = _train_two_steps(config, env)
    assert "stopping after this step, with a checkpoint" in said, said
    logged = _logged_steps(tmp_path / "run")
    assert logged == list(range(1, len(logged) + 1)) and len(logged) >= 2
    assert f"its last checkpoint is step-{logged[-1]:06d}" in said, said

    said = _train_two_steps(config, env)  # resumes after the last logged step: none lost or repeated
    again = _logged_steps(tmp_path / "run")
    assert again[: len(logged)] == logged and again == list(range(1, len(again) + 1))
    assert len(again) >= len(logged) + 2 and f"its last checkpoint is step-{again[-1]:06d}" in said, said


def test_a_second_ctrl_c_or_one_before_the_first_step_ends_stops_at_once() -> None:
    early = _StopRequest(graceful=True)
    with pytest.raises(KeyboardInterrupt):  # loading the model or warming up: nothing to finish
        early(signal.SIGINT, None)
    stop = _StopRequest(graceful=True)
    stop.step_done = True
    stop(signal.SIGINT, None)
    assert stop.requested
    with pytest.raises(KeyboardInterrupt):
        stop(signal.SIGINT, None)
    several = _StopRequest(graceful=False)  # accelerate launch: every process got it; all stop now
    several.step_done = True
    with pytest.raises(KeyboardInterrupt):
        several(signal.SIGTERM, None)


CITATION_QUESTIONS = [
    {"question": "what does standard shipping cost?", "doc_ids": ["shipping.md"]},
    {"question": "how many days do I have to send an item back?", "doc_ids": ["returns.md"]},
    {"question": "do gift cards expire?", "doc_ids": ["giftcards.md"]},
    {"question": "return or ship it?", "doc_ids": ["returns.md", "shipping.md"]},  # both found: no task
    {"question": "who won the football game last night?", "doc_ids": []},  # no article answers it
]


def test_tasks_generate_makes_citation_tasks_from_questions_over_the_partners_retrieval(
    built_partner: tuple[Path, Path], tmp_path: Path
) -> None:
    config, data_dir = built_partner
    questions = tmp_path / "questions.yaml"
    questions.write_text(json.dumps(CITATION_QUESTIONS))
    args = [
        "tasks",
        "generate",
        "--partner",
        str(config),
        "--questions",
        str(questions),
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(app, args, env={"NAA_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    citations = [t for t in load_tasks(tmp_path / "tasks.jsonl") if t.type == "citation"]
    # "standard shipping" finds shipping.md alone (nothing to choose between); "return or ship it?" finds
    # both its documents (the verifier checks one); the football question names none.
    assert {t.messages[-1].content: t.answer for t in citations} == {
        "how many days do I have to send an item back?": "returns.md",
        "do gift cards expire?": "giftcards.md",
    }
    for task in citations:
        found = [passage.doc_id for passage in task.context]
        assert task.answer in found and len(set(found)) >= 2, found
    assert {t.split for t in citations} == {"train", "heldout"}

    questions.write_text(json.dumps([{"question": "do gift cards expire?", "doc_ids": ["gift-cards.md"]}]))
    typo = runner.invoke(app, args, env={"NAA_DATA_DIR": str(data_dir)})
    assert typo.exit_code == 1 and "Traceback" not in typo.output
    assert "the knowledge base holds no document gift-cards.md" in " ".join(typo.output.split())
    questions.write_text(json.dumps(CITATION_QUESTIONS[:1]))
    no_task = runner.invoke(app, args, env={"NAA_DATA_DIR": str(data_dir)})
    assert no_task.exit_code == 1
    assert "none of the 1 questions tried makes a citation task" in " ".join(no_task.output.split())
