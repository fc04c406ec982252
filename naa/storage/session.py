"""Engines, sessions and schema set-up for PostgreSQL and the embedded SQLite file.

Repositories never commit: the caller owns the transaction (one per API request, one per task step), so
a request that fails half-way leaves nothing behind. ``session_scope`` is that transaction for tasks.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant works; it only has to be the same in every process that migrates this database.
_MIGRATION_LOCK_ID = 0x4E4141
# Seconds to open a PostgreSQL connection before the request fails (a 503, api/errors.py); unless the URL
# sets its own ?connect_timeout=.
PG_CONNECT_TIMEOUT_S = 5


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; a SQLite file gets its folder created, foreign keys on, and WAL for many readers."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            # libpq waits for a server that accepts but does not answer (a host gone, a full backlog) with
            # no limit: every request, /healthz too, then hung until the replica had no threads left.
            connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **kwargs.get("connect_args", {})}
            kwargs["connect_args"] = connect_args
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # The API, the worker and the CLI share one file: wait for a lock instead of failing at once.
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit, so a caller can return what it just saved."""
    return sessionmaker(engine, expire_on_commit=False)


def lock_row(session: Session, column: InstrumentedAttribute[Any], row_id: str) -> None:
    """Hold the row ``row_id`` of ``column``'s table until the caller's transaction ends.

    For read-then-write changes that two processes can make at once (a message count, a job's status). A
    no-op write, ``column`` set to itself, does this on both databases: PostgreSQL locks that one row, and
    SQLite takes its single writer lock, which pysqlite would otherwise take only at the first write, after
    the read. ``SELECT ... FOR UPDATE`` would do on PostgreSQL only (SQLite drops the clause), and a retry
    on a unique constraint needs SAVEPOINTs, which pysqlite's implicit transactions break. Naming the column
    also keeps an ``onupdate`` default on it from changing it.
    """
    table = column.class_
    session.execute(
        update(table)
        .where(table.id == row_id)
        .values({column: column})
        .execution_options(synchronize_session=False)
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def database_session(url: str) -> Iterator[Session]:
    """One transaction on the database at ``url``, migrated first and closed after: for a command that
    touches the database once (registering a partner file, looking up a model version), not a server."""
    init_db(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def migration_config() -> Config:
    """Alembic settings built in code, so migrations run from an installed package (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def init_db(url: str) -> None:
    """Create or upgrade the schema to the newest migration; safe to call from every process at start-up."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # API replicas and workers starting together must not run the same migration twice.
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            config = migration_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
