"""`naa rl` commands: generate verifiable tasks, train with Guide-GRPO (or a baseline), evaluate pass@k."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from naa.cli.common import console, progress_bar, user_errors, workspace

app = typer.Typer(help="Reinforcement learning on verifiable customer-service tasks.", no_args_is_help=True)
tasks_app = typer.Typer(help="Verifiable task files.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")


@tasks_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write tasks.jsonl into.")],
    per_template: Annotated[int, typer.Option("--per-template", min=2, help="Tasks per template.")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same tasks.")] = 0,
    heldout: Annotated[float, typer.Option("--heldout", help="Share of each template held out.")] = 0.2,
) -> None:
    """Build tasks from the demo partner's policies, intents and KB, and the ABCD guidelines."""
    from naa.rl.task_generator import TaskSources, generate_tasks
    from naa.rl.tasks import save_tasks, task_counts

    with user_errors():
        tasks = generate_tasks(
            TaskSources.demo(), per_template=per_template, seed=seed, heldout_fraction=heldout
        )
        path = out / "tasks.jsonl"
        save_tasks(tasks, path)
    table = Table("type/split", "tasks")
    for key, count in task_counts(tasks).items():
        table.add_row(key, str(count))
    console.print(table)
    console.print(f"wrote {len(tasks)} tasks to {path}")


def _step_line(record: dict[str, Any]) -> str:
    loss = "-" if record["loss"] is None else f"{record['loss']:+.4f}"
    reward = "-" if record["reward_mean"] is None else f"{record['reward_mean']:.3f}"
    return (
        f"reward {reward} hints {record['hint_fraction']:.2f} filtered {record['filtered_fraction']:.2f} "
        f"loss {loss} {record['tokens_per_s']:.0f} tok/s"
    )


@app.command()
def train(
    config: Annotated[Path, typer.Option("--config", "-c", help="RL config YAML (naa.rl.config.RLConfig).")],
) -> None:
    """Train in this process (or in each process `accelerate launch` starts); rerun to resume."""
    from naa.rl.config import RLConfig
    from naa.rl.processes import is_main_process
    from naa.rl.trainer import train as run_training

    with user_errors():
        rl_config = RLConfig.from_yaml(config)
        if not is_main_process():  # under accelerate launch, the main process alone reports
            run_training(rl_config, models_dir=workspace().models_dir)
            return
        with progress_bar(f"rl {rl_config.variant}") as report:

            def progress(record: dict[str, Any]) -> None:
                report(record["step"] / rl_config.steps, f"step {record['step']}: {_step_line(record)}")

            result = run_training(rl_config, models_dir=workspace().models_dir, progress=progress)
    console.print(
        f"trained {result.step} steps; model: {result.model_path}; metrics: {result.run_dir}/metrics.jsonl"
    )


@app.command("eval")
def evaluate(
    run: Annotated[Path, typer.Option("--run", help="The output_dir of a finished `naa rl train`.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Samples per task (n >= every k).")] = 8,
    k: Annotated[
        list[int] | None, typer.Option("--k", help="k of pass@k; repeat it. Default: 1 and n.")
    ] = None,
    tasks: Annotated[Path | None, typer.Option("--tasks", help="Task file. Default: the run's.")] = None,
    split: Annotated[str, typer.Option("--split", help="heldout or train.")] = "heldout",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Evaluate the first N tasks.")] = None,
) -> None:
    """pass@k of the start model and the trained model; writes eval.json and eval.png in the run folder."""
    from naa.errors import ConfigError
    from naa.rl.evaluation import evaluate_run

    with user_errors():
        if split not in ("heldout", "train"):
            raise ConfigError(f"--split is {split!r}; use heldout or train")
        report = evaluate_run(
            run,
            n=n,
            ks=tuple(k or sorted({1, n})),
            tasks_path=tasks,
            split="heldout" if split == "heldout" else "train",
            limit=limit,
            models_dir=workspace().models_dir,
        )
    console.print(report["table"])
    comparison = report["comparison"]
    console.print(
        f"at k={comparison['k']}: compression {comparison['compression']:.3f}, "
        f"capability gain {comparison['capability_gain']:.3f}, lost {comparison['lost']:.3f} "
        f"({comparison['tasks']} tasks)"
    )
    console.print(f"wrote {run / 'eval.json'} and {run / 'eval.png'}")
