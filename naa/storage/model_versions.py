"""The model registry: trained generators and intent classifiers a partner's config can point at.

A config names a registered generator as ``generation.model: "version:<name>"``; ``PUT /v1/generator``
stores a choice on the partner row instead (``partners.set_generator_version``), which wins over the config.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from naa.errors import ConflictError, NotFoundError
from naa.storage.models import ModelKind, ModelVersion

VERSION_PREFIX = "version:"


def register_model_version(
    session: Session,
    partner_id: str,
    kind: ModelKind,
    name: str,
    path: Path,
    metrics: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Record a finished model; names are unique per partner and kind so a config can refer to one."""
    check_name_free(session, partner_id, kind, name)
    return _insert(session, partner_id, kind, name, path, metrics)


def register_job_result(
    session: Session,
    partner_id: str,
    kind: ModelKind,
    name: str,
    path: Path,
    metrics: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register what a job produced; a job delivered twice (``acks_late``) finds its own row and keeps it.

    Another model under the same name is still a conflict: two jobs must not both claim one name.
    """
    row = _by_name(session, partner_id, kind, name)
    if row is None:
        return _insert(session, partner_id, kind, name, path, metrics)
    if row.path != str(path):
        raise ConflictError(
            f"{kind.value} model version {name!r} already exists for {row.path}; pick another name"
        )
    return row


def add_model_version_metrics(
    session: Session, partner_id: str, kind: ModelKind, name: str, metrics: Mapping[str, Any]
) -> ModelVersion:
    """Merge ``metrics`` (an evaluation's pass@k, run after registration) into a version's metrics."""
    row = get_model_version_by_name(session, partner_id, kind, name)
    row.metrics = {**row.metrics, **metrics}  # a new dict: the JSON column sees the change
    session.flush()
    return row


def get_model_version(session: Session, partner_id: str, version_id: str) -> ModelVersion:
    query = select(ModelVersion).where(ModelVersion.id == version_id, ModelVersion.partner_id == partner_id)
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"model version {version_id!r} does not exist")
    return row


def get_model_version_by_name(session: Session, partner_id: str, kind: ModelKind, name: str) -> ModelVersion:
    row = _by_name(session, partner_id, kind, name)
    if row is None:
        raise NotFoundError(f"{kind.value} model version {name!r} does not exist")
    return row


def latest_model_version(session: Session, partner_id: str, kind: ModelKind) -> ModelVersion:
    query = (
        select(ModelVersion)
        .where(ModelVersion.partner_id == partner_id, ModelVersion.kind == kind)
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id)
        .limit(1)
    )
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"partner {partner_id!r} has no {kind.value} model version yet")
    return row


def find_model_version(session: Session, partner_id: str, kind: ModelKind, ref: str) -> ModelVersion:
    """The partner's version of ``kind`` whose id or name is ``ref`` (a client may know either)."""
    query = select(ModelVersion).where(
        ModelVersion.partner_id == partner_id,
        ModelVersion.kind == kind,
        (ModelVersion.id == ref) | (ModelVersion.name == ref),
    )
    # Two rows only when a name equals another version's id; the id wins.
    row = session.scalars(query.order_by((ModelVersion.id == ref).desc())).first()
    if row is None:
        raise NotFoundError(f"{kind.value} model version {ref!r} does not exist")
    return row


def check_name_free(session: Session, partner_id: str, kind: ModelKind, name: str) -> None:
    """Raise ConflictError now, for a job that would register ``name`` when it finishes hours later."""
    if _by_name(session, partner_id, kind, name) is not None:
        raise ConflictError(f"{kind.value} model version {name!r} already exists; pick another name")


def list_model_versions(
    session: Session, partner_id: str, *, kind: ModelKind | None = None
) -> list[ModelVersion]:
    """Newest first."""
    query = select(ModelVersion).where(ModelVersion.partner_id == partner_id)
    if kind is not None:
        query = query.where(ModelVersion.kind == kind)
    return list(session.scalars(query.order_by(ModelVersion.created_at.desc(), ModelVersion.id)))


def _by_name(session: Session, partner_id: str, kind: ModelKind, name: str) -> ModelVersion | None:
    query = select(ModelVersion).where(
        ModelVersion.partner_id == partner_id, ModelVersion.kind == kind, ModelVersion.name == name
    )
    return session.scalar(query)


def _insert(
    session: Session,
    partner_id: str,
    kind: ModelKind,
    name: str,
    path: Path,
    metrics: Mapping[str, Any] | None,
) -> ModelVersion:
    row = ModelVersion(
        partner_id=partner_id, kind=ModelKind(kind), name=name, path=str(path), metrics=dict(metrics or {})
    )
    session.add(row)
    session.flush()
    return row
