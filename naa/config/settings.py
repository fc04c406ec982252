"""Process-wide settings, read from ``NAA_`` environment variables.

Built once at the edges (``api/deps.py``, ``pipelines/celery_app.py``, the CLI) and passed down: nothing in
``naa/`` reads the environment itself.
"""

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from naa.errors import ConfigError

ENV_PREFIX = "NAA_"
MIN_ADMIN_KEY_CHARS = 24


class NAASettings(BaseSettings):
    """Where NAA keeps its files and which services it talks to."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(
        Path(".naa"), description="Indexes, trained intent models, converted generators, the SQLite database."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; defaults to a SQLite file in data_dir."
    )
    broker_url: str | None = Field(
        None, description="Celery broker; defaults to kombu's SQLAlchemy transport on SQLite in data_dir."
    )
    result_backend: str | None = Field(None, description="Celery result backend; defaults like broker_url.")
    admin_key: SecretStr | None = Field(
        None,
        description=f"Key for admin routes, at least {MIN_ADMIN_KEY_CHARS} characters; admin routes are off "
        "unset or empty.",
    )
    max_message_chars: int = Field(4000, ge=1, description="Longer customer messages are refused.")
    rl_max_run_tokens: int = Field(
        1_000_000_000,
        ge=1,
        description="Largest RL run or evaluation the API queues, in completion tokens it may sample and "
        "train on (RLConfig.token_bound); bounds how long one partner's job can hold a GPU worker. "
        "`naa rl train` on the command line is not limited.",
    )

    @field_validator("admin_key")
    @classmethod
    def _admin_key_is_long(cls, key: SecretStr | None) -> SecretStr | None:
        """The admin key creates partners and mints their keys, and nothing limits how often a client may
        guess it: a short one is refused at startup. Empty (``NAA_ADMIN_KEY=`` left blank in .env): unset."""
        if key is None or not key.get_secret_value():
            return None
        if len(key.get_secret_value()) < MIN_ADMIN_KEY_CHARS:
            raise ValueError(
                f"it has {len(key.get_secret_value())} characters; use a random one of at least "
                f"{MIN_ADMIN_KEY_CHARS}: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return key

    @classmethod
    def from_env(cls) -> "NAASettings":
        """The settings of the ``NAA_`` variables (and nothing from code).

        Raises:
            ConfigError: a variable's value is refused, named as the variable (``NAA_ADMIN_KEY: ...``).
        """
        try:
            return cls.model_validate({})
        except ValidationError as err:
            problems = [
                f"{ENV_PREFIX}{str(error['loc'][0]).upper()}: {error['msg']}" for error in err.errors()
            ]
            raise ConfigError("; ".join(problems)) from err

    def is_admin_key(self, key: str) -> bool:
        return self.admin_key is not None and secrets.compare_digest(
            key.encode(), self.admin_key.get_secret_value().encode()
        )

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'naa.db').resolve()}"
