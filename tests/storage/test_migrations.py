"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from naa.storage.models import Base
from naa.storage.session import init_db, make_engine, migration_config

HEAD = ScriptDirectory.from_config(migration_config()).get_current_head()


def test_migrated_schema_has_no_diff_against_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_init_db_twice_is_a_no_op(db_url: str, engine: Engine) -> None:
    init_db(db_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD


def test_init_db_creates_the_sqlite_folder_and_every_table(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    init_db(url)
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    init_db(url)
    engine = make_engine(url)
    try:
        with _migrating(engine) as (_conn, config):
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        init_db(url)
        assert "jobs" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_postgres_once(fresh_postgres_url: str) -> None:
    """API replicas and workers call init_db at the same moment; the advisory lock makes them take turns."""
    url = fresh_postgres_url
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            init_db(url)
        except BaseException as err:  # collected, then reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
    finally:
        engine.dispose()


@contextmanager
def _migrating(engine: Engine) -> Iterator[tuple[Connection, Config]]:
    """A transaction on ``engine`` and an Alembic config that migrates in it."""
    with engine.begin() as conn:
        config = migration_config()
        config.attributes["connection"] = conn
        yield conn, config


def test_0002_adds_an_empty_generator_version_to_existing_partners_and_downgrades(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    engine = make_engine(url)
    try:
        with _migrating(engine) as (conn, config):
            command.upgrade(config, "0001")
            conn.execute(
                text("INSERT INTO partners (id, name, created_at) VALUES ('acme', 'Acme', '2026-11-27')")
            )
            command.upgrade(config, "0002")
            rows = conn.execute(text("SELECT id, generator_version_id FROM partners")).all()
            assert [tuple(row) for row in rows] == [("acme", None)]
            command.downgrade(config, "0001")
        columns = {column["name"] for column in inspect(engine).get_columns("partners")}
        assert "generator_version_id" not in columns and "config_yaml" in columns
    finally:
        engine.dispose()


def test_0003_adds_an_empty_action_to_stored_messages_and_downgrades(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    engine = make_engine(url)
    try:
        with _migrating(engine) as (conn, config):
            command.upgrade(config, "0002")
            conn.execute(
                text("INSERT INTO partners (id, name, created_at) VALUES ('acme', 'Acme', '2026-11-27')")
            )
            conn.execute(
                text(
                    "INSERT INTO conversations (id, partner_id, channel, created_at) "
                    "VALUES ('c1', 'acme', 'api', '2026-11-27')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, position, role, content, passages, "
                    "citations, handoff, latency_ms, created_at) "
                    "VALUES ('m1', 'c1', 0, 'ASSISTANT', 'Hi', '[]', '[]', 0, '{}', '2026-11-27')"
                )
            )
            command.upgrade(config, "0003")
            rows = conn.execute(text("SELECT id, content, action FROM messages")).all()
            assert [tuple(row) for row in rows] == [("m1", "Hi", None)]
            command.downgrade(config, "0002")
        columns = {column["name"] for column in inspect(engine).get_columns("messages")}
        assert "action" not in columns and "handoff" in columns
    finally:
        engine.dispose()
