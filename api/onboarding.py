"""A partner's life: registering a partner file, queueing the builds of its models, deleting it.

A partner whose YAML lives on disk (the shipped demo, a partner folder) is stored with its path, so edits
to the file take effect at the next start. Its key is printed once, when it is made: stored keys are only
hashes and cannot be shown again, so a lost one is replaced (``naa serve --new-key``), not shown. A
partner created through the API is built by jobs on the worker: intent training from its examples, and
indexing of the knowledge-base sources its file names. Deleting a partner deletes its rows and its folder
in the data dir.
"""

import logging
import shutil
import uuid
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from naa.builder import check_build, indexes_sources, intent_examples, trains_intents
from naa.config.partner import load_partner_config
from naa.config.settings import NAASettings
from naa.storage import partners
from naa.storage.models import Job, Partner
from naa.storage.session import database_session, lock_row
from naa.workspace import Workspace
from pipelines.celery_app import NAACelery
from pipelines.submit import submit_intent_train, submit_kb_index

log = logging.getLogger(__name__)


def register_partner_file(
    settings: NAASettings, config_path: Path, key_name: str = "naa serve", *, new_key: bool = False
) -> str | None:
    """Store the partner of ``config_path`` if it is new, and make its key ``key_name`` if it has none.

    Returns:
        The new key, or None when a live key of that name exists already (it keeps working). With
        ``new_key``, the live keys of that name are revoked and a new one is returned: one key per
        name, however often a server restarts, and a lost key can be replaced.

    Raises:
        ConfigError: the file is missing or invalid.
    """
    config = load_partner_config(config_path)
    with database_session(settings.resolved_database_url()) as session:
        if config.id not in {p.id for p in partners.list_partners(session)}:
            partners.create_partner(session, config.id, config.name, config_path=config_path.resolve())
        live = [
            k
            for k in partners.list_api_keys(session, config.id)
            if k.name == key_name and k.revoked_at is None
        ]
        if live and not new_key:
            return None
        for key in live:
            partners.revoke_api_key(session, config.id, key.id)
        return partners.create_api_key(session, config.id, key_name)[1]


def queue_build(session: Session, jobs_app: NAACelery, partner_id: str) -> list[Job]:
    """Queue what ``naa build`` would build: training of the built-in intent classifier and indexing of the
    sources into the built-in knowledge base (a plugin classifier or retriever is its own package's work).

    Raises:
        ConfigError: a plugin the partner names is missing or cannot be built with its options, a source
            folder or the intent examples are missing, said now rather than by a failed job or the first
            request after the jobs (``naa build`` checks the same).
    """
    lock_row(session, Partner.name, partner_id)  # a delete of the partner at this moment waits, or this does
    config = partners.partner_config(partners.get_partner(session, partner_id))
    check_build(config, jobs_app.workspace)
    queued = []
    if trains_intents(config):
        intent_examples(config)  # raises when there are none
        queued.append(submit_intent_train(jobs_app, session, partner_id))
    if indexes_sources(config):
        queued.append(
            submit_kb_index(
                jobs_app, session, partner_id, config.knowledge_base.name, config.knowledge_base.sources
            )
        )
    return queued


def delete_partner(session: Session, workspace: Workspace, partner_id: str) -> None:
    """Delete the partner's rows (``partners.delete_partner``) and its folder in the data dir.

    The folder (indexes, intent model, uploads, RL runs) must go with the rows: a partner created later
    with the same id would otherwise answer from the old one's index and model. It is moved aside now
    and removed once the transaction commits; if the transaction rolls back, it is moved back, so a
    failed delete leaves the partner whole.

    Raises:
        NotFoundError: no such partner.
        ConflictError: a job of the partner has not ended.
    """
    partners.delete_partner(session, partner_id)
    folder = workspace.partner_dir(partner_id)
    if not folder.exists():
        return
    # A leading dot: no partner id can name it (NAME_PATTERN), so it is never a partner's folder.
    moved = [folder.rename(folder.with_name(f".deleted-{partner_id}-{uuid.uuid4().hex}"))]

    def committed(_: Session) -> None:
        if moved:
            aside = moved.pop()
            shutil.rmtree(aside, ignore_errors=True)
            if aside.exists():  # the partner is gone either way; only disk space is left to reclaim
                log.warning("deleted partner %r: could not remove all of %s", partner_id, aside)

    def rolled_back(_: Session) -> None:
        if moved:
            moved.pop().rename(folder)

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)
