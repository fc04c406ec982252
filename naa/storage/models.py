"""The database tables of NAA as SQLAlchemy 2 typed models.

Every row that belongs to a partner carries ``partner_id`` (messages reach it through their conversation),
so the repositories can scope each query to one partner. Ids exposed through the API are random hex
strings, not sequences, so one partner cannot guess how many objects another has.
"""

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column, relationship

from naa.intent.examples import MAX_INTENT_NAME_CHARS

# Fixed constraint names make migrations reproducible and let PostgreSQL and SQLite agree on them.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PARTNER_ID_LENGTH = 63
DOC_ID_LENGTH = 200  # an uploaded file's name is its document id


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps come back as aware UTC datetimes, whatever the backend does with time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite returns naive values; PostgreSQL returns them in the server's session time zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ASSISTANT = "assistant"


class Rating(enum.StrEnum):
    UP = "up"
    DOWN = "down"


class DocumentStatus(enum.StrEnum):
    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


class JobKind(enum.StrEnum):
    KB_INDEX = "kb_index"
    INTENT_TRAIN = "intent_train"
    RL_TRAIN = "rl_train"
    EVAL = "eval"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    # Asked to stop while running: the task stops at its next check and then records it cancelled.
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class ModelKind(enum.StrEnum):
    GENERATOR = "generator"
    INTENT = "intent"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings (no native PostgreSQL enum), so adding a value needs no type migration.
    return Enum(cls, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _partner_fk() -> MappedColumn[str]:
    return mapped_column(String(PARTNER_ID_LENGTH), ForeignKey("partners.id", ondelete="CASCADE"), index=True)


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(PARTNER_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    config_yaml: Mapped[str | None] = mapped_column(Text, doc="The partner file's text, when stored inline.")
    config_path: Mapped[str | None] = mapped_column(String(1000), doc="Or the partner file on disk.")
    # No foreign key: model_versions already points at partners, and the cycle would need ALTER TABLE,
    # which SQLite lacks. Versions are deleted only with their partner (cascade), so the id cannot dangle.
    generator_version_id: Mapped[str | None] = mapped_column(
        String(32), doc="The generator model version serving this partner, over its config's model."
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = _partner_fk()
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 hex of the full key.")
    prefix: Mapped[str] = mapped_column(
        String(16), doc="Start of the key, shown so users can tell keys apart."
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class KnowledgeBase(Base):
    __tablename__ = "knowledge_bases"
    __table_args__ = (UniqueConstraint("partner_id", "name", name="uq_knowledge_bases_partner_id_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = _partner_fk()
    name: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("kb_id", "doc_id", name="uq_documents_kb_id_doc_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = _partner_fk()
    kb_id: Mapped[str] = mapped_column(String(32), ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    doc_id: Mapped[str] = mapped_column(String(DOC_ID_LENGTH))
    title: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(1000), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus), default=DocumentStatus.PENDING)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    knowledge_base: Mapped[KnowledgeBase] = relationship(lazy="joined")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_partner_id_created_at", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(
        String(PARTNER_ID_LENGTH), ForeignKey("partners.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(32), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list["Message"]] = relationship(
        order_by="Message.position", back_populates="conversation", cascade="all, delete-orphan"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "position", name="uq_messages_conversation_id_position"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer, doc="0, 1, 2... within the conversation: the turn order.")
    role: Mapped[Role] = mapped_column(_enum(Role))
    content: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(MAX_INTENT_NAME_CHARS))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    passages: Mapped[list[Any]] = mapped_column(default=list)
    citations: Mapped[list[Any]] = mapped_column(default=list)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str | None] = mapped_column(
        String(16),
        doc="What an assistant turn did (answer, smalltalk, clarify, handoff, no_answer), so a partner can "
        "count the questions its help center could not answer; None for people's turns and older rows.",
    )
    latency_ms: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Milliseconds per chain stage.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = _partner_fk()
    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[Rating] = mapped_column(_enum(Rating))
    comment: Mapped[str | None] = mapped_column(Text)
    corrected_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_partner_id_created_at", "partner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(
        String(PARTNER_ID_LENGTH), ForeignKey("partners.id", ondelete="CASCADE")
    )
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0, doc="0..1")
    message: Mapped[str] = mapped_column(String(500), default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    celery_task_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("partner_id", "kind", "name", name="uq_model_versions_partner_id_kind_name"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner_id: Mapped[str] = _partner_fk()
    kind: Mapped[ModelKind] = mapped_column(_enum(ModelKind))
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
