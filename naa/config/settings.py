"""Process-wide settings, read from ``NAA_`` environment variables.

Built once at the edges (``api/deps.py``, ``pipelines/celery_app.py``, the CLI) and passed down: nothing in
``naa/`` reads the environment itself.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NAASettings(BaseSettings):
    """Where NAA keeps its files and which services it talks to."""

    model_config = SettingsConfigDict(env_prefix="NAA_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(
        Path(".naa"), description="Indexes, trained intent models, converted generators, the SQLite database."
    )
    partners_dir: Path | None = Field(
        None, description="Folder of partner YAML files; the shipped demo partner is used when unset."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; defaults to a SQLite file in data_dir."
    )
    broker_url: str | None = Field(
        None, description="Celery broker; defaults to kombu's SQLAlchemy transport on SQLite in data_dir."
    )
    result_backend: str | None = Field(None, description="Celery result backend; defaults like broker_url.")
    admin_key: SecretStr | None = Field(None, description="Key for admin routes; admin routes are off unset.")
    max_message_chars: int = Field(4000, ge=1, description="Longer customer messages are refused.")

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'naa.db').resolve()}"
