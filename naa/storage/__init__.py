"""Persistence: SQLAlchemy models, sessions, migrations, and one repository module per aggregate.

Repositories (``partners``, ``conversations``, ``documents``, ``jobs``, ``feedback``, ``model_versions``) take
a ``Session`` and a ``partner_id`` and raise ``NotFoundError`` for another partner's rows; they flush but
never commit, so the caller decides what one transaction is.
"""

from naa.storage.models import (
    ApiKey,
    Conversation,
    Document,
    DocumentStatus,
    Feedback,
    Job,
    JobKind,
    JobStatus,
    KnowledgeBase,
    Message,
    ModelKind,
    ModelVersion,
    Partner,
    Rating,
    Role,
)
from naa.storage.session import init_db, make_engine, make_session_factory, session_scope

__all__ = [
    "ApiKey",
    "Conversation",
    "Document",
    "DocumentStatus",
    "Feedback",
    "Job",
    "JobKind",
    "JobStatus",
    "KnowledgeBase",
    "Message",
    "ModelKind",
    "ModelVersion",
    "Partner",
    "Rating",
    "Role",
    "init_db",
    "make_engine",
    "make_session_factory",
    "session_scope",
]
