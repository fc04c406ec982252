"""`naa eval` commands: score NAA's components on public data sets and on a partner's own questions."""

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from naa.cli.common import (
    DEMO_PARTNER,
    PartnerOption,
    command_group,
    console,
    load_partner,
    output_file,
    progress_bar,
    user_errors,
    workspace,
)
from naa.errors import InputError

app = command_group("Evaluate NAA's components on public data sets and on a partner's own questions.")

DEMO_QUESTIONS = DEMO_PARTNER.parent / "retrieval_questions.yaml"

# The data sets live beside the checkout (../shared/data), the same path in CI.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@app.command()
def intent(
    dataset: Annotated[
        Literal["banking77", "clinc150"], typer.Option("--dataset", help="Data set to train and test on.")
    ],
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder holding the data sets.")
    ] = DEFAULT_DATA_DIR,
    out: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")] = None,
    limit_train: Annotated[
        int | None, typer.Option("--limit-train", min=2, help="Train on at most N examples (a quick check).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Override the recipe's epochs.")
    ] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option("--model-dir", help="Keep the trained model here. Default: a temporary folder."),
    ] = None,
) -> None:
    """Train the intent recipe on a data set and report test accuracy, macro-F1 and out-of-scope figures."""
    from naa.eval.intent_eval import evaluate_intent
    from naa.intent import EmbeddingIntentConfig

    config = EmbeddingIntentConfig() if epochs is None else EmbeddingIntentConfig(epochs=epochs)
    with (
        user_errors(),
        tempfile.TemporaryDirectory(prefix="naa-eval-") as scratch,
        progress_bar(f"train on {dataset}") as report,
    ):
        if out is not None:
            output_file(out)
        result, _ = evaluate_intent(
            dataset, data_dir, model_dir or Path(scratch) / "model", config, limit_train, report
        )
    metrics = result.metrics
    table = Table(title=f"intent classification, {dataset} test ({result.test_queries} queries)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("accuracy (top intent)", f"{100 * metrics.accuracy:.2f}%")
    table.add_row("macro-F1", f"{100 * metrics.macro_f1:.2f}%")
    if metrics.oos_recall is not None:
        table.add_row("in-scope accuracy (right and accepted)", f"{100 * metrics.in_scope_accuracy:.2f}%")
        table.add_row("out-of-scope recall", f"{100 * metrics.oos_recall:.2f}%")
    table.add_row("threshold", f"{result.threshold:.3f} ({result.train.calibration})")
    table.add_row("training time", f"{result.train.train_seconds:.0f} s")
    console.print(table)
    _write_results(out, result.to_dict())


@app.command()
def retrieval(
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="YAML list of '{question, doc_ids}': customer questions and the documents that answer "
            "them. Default: the demo partner's.",
        ),
    ] = None,
    partner: PartnerOption = None,
    top_k: Annotated[
        int | None,
        typer.Option("--top-k", "-k", min=1, help="Passages per question. Default: the partner's top_k."),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            min=-1.0,
            max=1.0,
            help="Try this retrieval.min_score (a cosine similarity) instead of the partner's (built-in).",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")] = None,
) -> None:
    """Score the partner's knowledge base: is the article that answers each question among the passages the
    assistant would get (hit@1, hit@k, MRR), and do questions it does not answer find nothing?"""
    from naa.assistant import build_retriever
    from naa.config.plugins import PluginComponentConfig
    from naa.eval.retrieval_eval import check_doc_ids, evaluate_retrieval, read_questions
    from naa.retrieval import KnowledgeBase

    with user_errors():
        if questions is None and partner is not None:
            raise InputError("give --questions: the default questions are the demo partner's")
        path = questions or DEMO_QUESTIONS
        if out is not None:
            output_file(out)
        config = load_partner(partner)
        if min_score is not None:
            if isinstance(config.retrieval, PluginComponentConfig):
                raise InputError("--min-score applies to the built-in retriever; this partner's is a plugin")
            config = config.model_copy(
                update={"retrieval": config.retrieval.model_copy(update={"min_score": min_score})}
            )
        asked = read_questions(path)
        retriever = build_retriever(config, workspace())
        if isinstance(retriever, KnowledgeBase):
            check_doc_ids(asked, {d.doc_id for d in retriever.documents()}, str(path))
        retriever.warm_up()
        if top_k is None and not isinstance(config.retrieval, PluginComponentConfig):
            top_k = config.retrieval.top_k
        result = evaluate_retrieval(retriever, asked, top_k)
    k = str(top_k) if top_k else "k"
    table = Table(title=f"retrieval, partner {config.id}, {len(asked)} questions ({path.name})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    answerable, unanswerable = len(result.answerable), len(result.unanswerable)
    table.add_row(f"{answerable} answerable: hit@1, answering article first", _percent(result.hit_at_1))
    table.add_row(f"hit@{k}, among the passages the model gets", _percent(result.hit_at_k))
    table.add_row(f"MRR@{k}", "-" if result.mrr is None else f"{result.mrr:.3f}")
    table.add_row("no passage above min_score (the reply: I don't know)", _percent(result.no_passage))
    table.add_row(f"{unanswerable} unanswerable: no passage, as it should be", _percent(result.rejected))
    table.add_row("search time, all questions", f"{result.seconds * 1000:.0f} ms")
    console.print(table)
    misses = [r for r in result.results if (r.rank != 1 if r.doc_ids else r.retrieved)]
    if misses:
        missed = Table("question", "answered by", "rank", "first passage from", title="misses")
        for r in misses:
            first = r.retrieved[0] if r.retrieved else "-"
            missed.add_row(r.question, ", ".join(r.doc_ids) or "(nothing)", str(r.rank or "-"), first)
        console.print(missed)
    _write_results(out, result.to_dict())


def _write_results(out: Path | None, results: dict[str, Any]) -> None:
    if out is not None:
        with user_errors():
            out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"wrote {out}")


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"
