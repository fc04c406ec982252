"""`naa kb` commands: ingest, search, list and delete knowledge-base documents."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from naa.cli.common import (
    PartnerOption,
    command_group,
    console,
    load_partner,
    progress_bar,
    user_errors,
    workspace,
)
from naa.errors import InputError

if TYPE_CHECKING:
    from naa.config.partner import PartnerConfig
    from naa.retrieval import KnowledgeBase
    from naa.retrieval.base import Retriever

app = command_group("Build and query a partner's knowledge base.")

KbOption = Annotated[
    str | None, typer.Option("--kb", help="Knowledge-base name. Default: knowledge_base.name of the partner.")
]


def _open(partner_path: Path | None, kb_name: str | None) -> "KnowledgeBase":
    return _open_for(load_partner(partner_path), kb_name)


def _open_for(partner: "PartnerConfig", kb_name: str | None) -> "KnowledgeBase":
    from naa.retrieval import KnowledgeBase

    files = workspace()
    directory = files.kb_dir(partner.id, kb_name or partner.knowledge_base.name)
    return KnowledgeBase(directory, partner.builtin_retrieval(), files.models_dir)


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to ingest. Default: knowledge_base.sources of the partner."),
    ] = None,
    partner: PartnerOption = None,
    kb: KbOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite documents whose id exists.")] = False,
) -> None:
    """Load, chunk, embed and index documents (Markdown, text, HTML, PDF, JSON/CSV FAQ)."""
    from naa.retrieval import load_documents

    with user_errors():
        config = load_partner(partner)
        knowledge_base = _open_for(config, kb)
        documents = load_documents(paths or config.knowledge_base.sources)
        with progress_bar("ingest") as report:
            result = knowledge_base.add(documents, progress=report, replace=replace)
    console.print(
        f"indexed {result.documents} documents as {result.chunks} chunks in {result.seconds:.1f} s "
        f"({len(result.replaced)} documents replaced, {result.reused_chunks} unchanged chunks kept) "
        f"into {knowledge_base.directory}"
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What a customer might ask.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Passages to show.")] = None,
    partner: PartnerOption = None,
    kb: KbOption = None,
) -> None:
    """Show the passages the assistant would retrieve for a query, with their scores (from the partner's
    plugin retriever, when it names one)."""
    from naa.assistant import build_retriever
    from naa.config.plugins import PluginComponentConfig

    with user_errors():
        if not query.strip():
            raise InputError("the query is empty: give the words a customer might use")
        config = load_partner(partner)
        retriever: Retriever
        if kb is None and isinstance(config.retrieval, PluginComponentConfig):
            retriever = build_retriever(config, workspace())
            retriever.warm_up()
        else:
            retriever = knowledge_base = _open_for(config, kb)
            if not knowledge_base.documents():
                console.print("the knowledge base holds no documents yet: `naa kb ingest PATH` adds some")
                return
        passages = retriever.search([query], top_k=top_k)[0]
    if not passages:
        console.print("no passage scores above min_score: the assistant would say it does not know")
        return
    table = Table("rank", "score")
    table.add_column("doc_id", overflow="fold")  # whole: it is what `naa kb delete` takes
    for column in ("title", "section", "text"):
        table.add_column(column)
    for rank, passage in enumerate(passages, start=1):
        snippet = " ".join(passage.text.split())
        table.add_row(
            str(rank),
            f"{passage.score:.3f}",
            passage.doc_id,
            passage.title,
            passage.section,
            snippet[:160] + ("…" if len(snippet) > 160 else ""),
        )
    console.print(table)


@app.command("list")
def list_documents(partner: PartnerOption = None, kb: KbOption = None) -> None:
    """List the documents in the knowledge base with their chunk counts."""
    with user_errors():
        knowledge_base = _open(partner, kb)
        documents = knowledge_base.documents()
    if not documents:
        console.print(f"knowledge base {knowledge_base.directory} is empty: run `naa kb ingest`")
        return
    table = Table()
    table.add_column("doc_id", overflow="fold")  # whole: it is what `naa kb delete` takes
    for column in ("title", "chunks", "source", "url"):
        table.add_column(column)
    for doc in documents:
        table.add_row(doc.doc_id, doc.title, str(doc.chunks), doc.source, doc.url)
    console.print(table)


@app.command()
def delete(
    doc_ids: Annotated[list[str], typer.Argument(help="Ids of the documents to remove (see `naa kb list`).")],
    partner: PartnerOption = None,
    kb: KbOption = None,
) -> None:
    """Remove documents and their chunks from the knowledge base."""
    with user_errors():
        removed = _open(partner, kb).delete(doc_ids)
    console.print(f"deleted {removed} documents")
