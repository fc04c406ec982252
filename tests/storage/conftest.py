"""Every storage test runs on the embedded SQLite file and on a real PostgreSQL database.

PostgreSQL is the server at 127.0.0.1:5432 (or NAA_TEST_POSTGRES_URL); each test session creates its own
uniquely named database and drops it at the end. Each test runs inside a transaction that is rolled back.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import fresh_postgres_database
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from naa.storage.partners import create_partner
from naa.storage.session import init_db, make_engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The database this test session migrates once and shares between tests."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """An empty database of its own, for tests that migrate it themselves."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'naa.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    init_db(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back, so tests never see each other's rows."""
    with engine.connect() as conn:
        transaction = conn.begin()
        with Session(bind=conn, expire_on_commit=False) as session:
            yield session
        transaction.rollback()


@pytest.fixture
def two_partners(session: Session) -> tuple[str, str]:
    create_partner(session, "acme", "Acme Corp")
    create_partner(session, "globex", "Globex")
    return "acme", "globex"


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "naa.db"
