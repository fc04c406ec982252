"""`naa rl` commands: generate verifiable tasks, train with Guide-GRPO (or a baseline), evaluate pass@k."""

import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from naa.cli.common import (
    command_group,
    console,
    err_console,
    load_partner,
    output_file,
    progress_bar,
    user_errors,
    workspace,
)

if TYPE_CHECKING:
    from naa.rl.tasks import RLTask

app = command_group("Reinforcement learning on verifiable customer-service tasks.")
tasks_app = command_group("Verifiable task files.")
app.add_typer(tasks_app, name="tasks")


@tasks_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write tasks.jsonl into.")],
    per_template: Annotated[int, typer.Option("--per-template", min=2, help="Tasks per template.")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same tasks.")] = 0,
    heldout: Annotated[
        float, typer.Option("--heldout", min=0.01, max=0.99, help="Share of each template held out.")
    ] = 0.2,
    partner: Annotated[
        Path | None,
        typer.Option(
            "--partner",
            "-p",
            help="A partner file: intent tasks from its examples (and policy tasks with --policies). "
            "Default: the demo's policies, intents and KB, and the ABCD guidelines.",
        ),
    ] = None,
    policies: Annotated[
        Path | None,
        typer.Option("--policies", help="With --partner: a policies file shaped as naa/demo/policies.yaml."),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="With --partner: customer questions and the documents answering them (as naa eval retrieval "
            "reads): citation tasks over the passages the partner's built knowledge base finds.",
        ),
    ] = None,
) -> None:
    """Build verifiable tasks (train and held-out splits) for RL from a partner's or the demo's sources."""
    from naa.assistant import build_retriever
    from naa.eval.retrieval_eval import read_questions
    from naa.rl.task_generator import TaskSources, generate_tasks, retrieved_passages
    from naa.rl.tasks import save_tasks

    with user_errors():
        if (policies is not None or questions is not None) and partner is None:
            raise typer.BadParameter("--policies and --questions go with --partner (the demo has its own)")
        if partner is None:
            sources = TaskSources.demo()
        elif questions is None:
            sources = TaskSources.partner(load_partner(partner), policies)
        else:
            config, asked = load_partner(partner), read_questions(questions)
            search = retrieved_passages(build_retriever(config, workspace()), asked, str(questions))
            sources = TaskSources.partner(config, policies, asked, search)
        path = output_file(out / "tasks.jsonl")
        tasks = generate_tasks(sources, per_template=per_template, seed=seed, heldout_fraction=heldout)
        save_tasks(tasks, path)
    _print_counts(tasks)
    console.print(f"wrote {len(tasks)} tasks to {path}")


@tasks_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="A JSONL task file (one task per line).")],
) -> None:
    """Validate a task file, hand-written or generated, and the reward plugins it names; count its tasks."""
    from naa.rl.rewards import RewardScorer
    from naa.rl.tasks import load_tasks

    with user_errors():
        tasks = load_tasks(path)
        RewardScorer().check(tasks)
    _print_counts(tasks)
    console.print(f"{path}: {len(tasks)} valid tasks")


def _print_counts(tasks: "Sequence[RLTask]") -> None:
    from naa.rl.tasks import task_counts

    table = Table("type/split", "tasks")
    for key, count in task_counts(tasks).items():
        table.add_row(key, str(count))
    console.print(table)


@app.command()
def warmup(
    tasks: Annotated[Path, typer.Option("--tasks", help="Task file; its train split is the data.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the warmed model (the RL run's model:).")],
    model: Annotated[
        str, typer.Option("--model", help="Packaged model name or a save_pretrained folder.")
    ] = "SmolLM2-135M-Instruct",
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimisation steps.")] = 200,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Demonstrations per step.")] = 8,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="AdamW learning rate.")] = 2e-5,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the data order.")] = 0,
) -> None:
    """Supervised warm-up before RL: learn to end replies with the final JSON block the verifiers read.

    Demonstrations are the train tasks' hints followed by their answers. Use it when the start model scores
    0 even with hints (`naa rl eval` on it), where no GRPO variant can learn.
    """
    from naa.generation.model_files import resolve_model_source
    from naa.rl.tasks import load_tasks
    from naa.rl.warmup import warm_up

    with user_errors():
        train_tasks = load_tasks(tasks, split="train")
        source = resolve_model_source(model, workspace().models_dir)
        with progress_bar("warm-up") as report:
            result = warm_up(
                source, train_tasks, out, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                progress=lambda step, loss: report(step / steps, f"step {step}: loss {loss:.4f}"),
            )  # fmt: skip
    console.print(
        f"warmed up in {result.seconds:.0f} s: loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}; "
        f"model: {result.model_path} (set it as model: in the RL config)"
    )


def _step_line(record: dict[str, Any]) -> str:
    loss = "-" if record["loss"] is None else f"{record['loss']:+.4f}"
    reward = "-" if record["reward_mean"] is None else f"{record['reward_mean']:.3f}"
    return (
        f"reward {reward} hints {record['hint_fraction']:.2f} filtered {record['filtered_fraction']:.2f} "
        f"loss {loss} {record['tokens_per_s']:.0f} tok/s"
    )


class _StopRequest:
    """Ctrl-C or SIGTERM once a step has been logged: the run stops after its current step, checkpointed,
    so no finished step is lost. A second signal, or one before the first step ends (model loading, the
    warm-up), stops at once, back to the last checkpoint. With several processes every signal stops at
    once: they all get Ctrl-C, and one that went on would wait for the others forever."""

    def __init__(self, graceful: bool) -> None:
        self.graceful = graceful
        self.step_done = False
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested or not (self.graceful and self.step_done):
            raise KeyboardInterrupt
        self.requested = True
        err_console.print("stopping after this step, with a checkpoint (Ctrl-C again stops now)")


def _stopped(run_dir: Path) -> str:
    from naa.rl.run_state import list_checkpoints

    checkpoints = list_checkpoints(run_dir)
    kept = f"its last checkpoint is {checkpoints[-1].name}" if checkpoints else "no step was checkpointed yet"
    return f"stopped: {kept} in {run_dir}; run the same command to resume from there"


@app.command()
def train(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", help="Run file: RLConfig fields (naa/rl/config.py); see examples/rl/run.yaml."
        ),
    ],
) -> None:
    """Train in this process (or in each process `accelerate launch` starts); rerun to resume."""
    from naa.rl.config import RLConfig
    from naa.rl.processes import is_main_process, process_count
    from naa.rl.trainer import train as run_training

    # SIGTERM (kill, a scheduler's stop) takes Ctrl-C's way out, so the run says where it stopped.
    stop = _StopRequest(graceful=process_count() == 1)
    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a script's background job ignores Ctrl-C
        signal.signal(signal.SIGINT, stop)
    with user_errors():
        rl_config = RLConfig.from_yaml(config)
        if not is_main_process():  # under accelerate launch, the main process alone reports
            run_training(rl_config, models_dir=workspace().models_dir)
            return
        with progress_bar(f"rl {rl_config.variant}") as report:

            def progress(record: dict[str, Any]) -> None:
                # A line per step above the bar: the whole line at any terminal width, and the run's
                # history on screen; the bar keeps only the count.
                err_console.print(f"step {record['step']}: {_step_line(record)}")
                report(record["step"] / rl_config.steps, f"step {record['step']}/{rl_config.steps}")
                stop.step_done = True

            def warmup_progress(step: int, loss: float) -> None:
                report(0.0, f"warm-up step {step}/{rl_config.warmup_steps}: loss {loss:.4f}")

            try:
                result = run_training(
                    rl_config,
                    models_dir=workspace().models_dir,
                    progress=progress,
                    warmup_progress=warmup_progress,
                    should_stop=lambda: stop.requested,
                )
            except KeyboardInterrupt:
                err_console.print(_stopped(rl_config.output_dir))
                raise typer.Exit(130) from None
    if result.stopped:
        err_console.print(_stopped(rl_config.output_dir))
        raise typer.Exit(130)
    console.print(
        f"trained {result.step} steps; model: {result.model_path}; metrics: {result.run_dir}/metrics.jsonl"
    )
    # A step whose groups were all filtered out (equal rewards) has no loss and leaves the model as it was.
    idle = sum(record["loss"] is None for record in result.metrics)
    if idle == len(result.metrics):
        err_console.print(
            "warning: every step's groups had equal rewards and were filtered out, so the trained model is "
            "the start model: give the run a warm-up (warmup_steps) or an easier task file"
        )
    elif idle:
        err_console.print(f"{idle} of {len(result.metrics)} steps kept no group and left the model as it was")


@app.command("eval")
def evaluate(
    run: Annotated[Path, typer.Option("--run", help="The output_dir of a finished `naa rl train`.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Samples per task (n >= every k).")] = 8,
    k: Annotated[
        list[int] | None, typer.Option("--k", help="k of pass@k; repeat it. Default: 1 and n.")
    ] = None,
    tasks: Annotated[Path | None, typer.Option("--tasks", help="Task file. Default: the run's.")] = None,
    split: Annotated[str, typer.Option("--split", help="heldout or train.")] = "heldout",
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Evaluate N tasks, taken from each task type in turn."),
    ] = None,
) -> None:
    """pass@k of the start model and the trained model; writes eval.json and eval.png in the run folder."""
    from naa.errors import ConfigError
    from naa.rl.evaluation import evaluate_run

    with user_errors():
        if split not in ("heldout", "train"):
            raise ConfigError(f"--split is {split!r}; use heldout or train")
        with progress_bar("pass@k") as report_progress:
            report = evaluate_run(
                run,
                n=n,
                ks=tuple(k or sorted({1, n})),
                tasks_path=tasks,
                split="heldout" if split == "heldout" else "train",
                limit=limit,
                models_dir=workspace().models_dir,
                progress=report_progress,
            )
    console.print(report["table"])
    comparison = report["comparison"]
    console.print(
        f"at k={comparison['k']}: compression {comparison['compression']:.3f}, "
        f"capability gain {comparison['capability_gain']:.3f}, lost {comparison['lost']:.3f} "
        f"({comparison['tasks']} tasks)"
    )
    console.print(f"wrote {run / 'eval.json'} and {run / 'eval.png'}")
