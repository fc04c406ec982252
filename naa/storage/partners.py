"""Partners and their API keys.

A partner's config is YAML text stored in its row (the admin API, where it can be replaced) or a file on
disk read each time (``naa serve``'s partner, edited in that file). Deleting a partner deletes its rows in
every table (the foreign keys cascade); its files are the caller's (``api.onboarding.delete_partner``).

A key is shown once, when it is created; the database keeps only its sha256, so a stolen database copy
does not reveal usable keys. Keys are long random strings, which is why a fast unsalted hash is enough.
"""

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from naa.config.partner import PartnerConfig, load_partner_config, parse_partner_yaml
from naa.config.plugins import PluginComponentConfig
from naa.errors import ConfigError, ConflictError, NotFoundError
from naa.generation.config import OpenAIGeneratorConfig
from naa.storage.jobs import unfinished_jobs
from naa.storage.model_versions import (
    VERSION_PREFIX,
    find_model_version,
    get_model_version,
    get_model_version_by_name,
)
from naa.storage.models import ApiKey, ModelKind, ModelVersion, Partner, utcnow
from naa.storage.session import lock_row

KEY_PREFIX = "naa_"
_DISPLAY_CHARS = 12


def create_partner(
    session: Session,
    partner_id: str,
    name: str,
    *,
    config_yaml: str | None = None,
    config_path: Path | None = None,
) -> Partner:
    """Add a partner whose config is the YAML text given, or a partner file read each time it is needed.

    Raises:
        ConflictError: the id is taken.
        ConfigError: the config is invalid, or names another partner id (its files would land in that
            partner's folders).
    """
    taken = f"partner {partner_id!r} already exists; pick another id"
    if session.get(Partner, partner_id) is not None:
        raise ConflictError(taken)
    partner = Partner(
        id=partner_id,
        name=name,
        config_yaml=config_yaml,
        config_path=str(config_path) if config_path is not None else None,
    )
    partner_config(partner)
    session.add(partner)
    try:
        session.flush()
    except IntegrityError as err:  # created by another request since the check above
        raise ConflictError(taken) from err
    return partner


def get_partner(session: Session, partner_id: str) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFoundError(f"partner {partner_id!r} does not exist")
    return partner


def update_partner(session: Session, partner_id: str, name: str, config_yaml: str) -> Partner:
    """Replace the stored config of a partner (and its name); its models stay until it is built again.

    Raises:
        NotFoundError: no such partner.
        ConflictError: the partner's config is a file on disk, which stays the one place to edit it.
        ConfigError: the config is invalid, names another partner id, or cannot serve the partner's
            generator version.
    """
    lock_row(session, Partner.name, partner_id)  # a delete or another update waits for this one
    partner = get_partner(session, partner_id)
    if partner.config_yaml is None and partner.config_path is not None:
        raise ConflictError(
            f"partner {partner_id!r} is read from its file {partner.config_path}: edit that file, "
            "and restart naa serve to use it"
        )
    partner.name = name
    partner.config_yaml = config_yaml
    partner_config(partner)
    session.flush()
    return partner


def delete_partner(session: Session, partner_id: str) -> None:
    """Delete the partner and, by cascade, its keys, conversations, documents, jobs and model versions.

    Refused while one of its jobs is queued, running or cancelling: its worker would write files and rows
    for a partner that is gone. Jobs queued for the partner at the same moment wait for this transaction
    (the row lock), then find no partner.

    Raises:
        NotFoundError: no such partner.
        ConflictError: a job of the partner has not ended.
    """
    lock_row(session, Partner.name, partner_id)  # SQLite: the writer lock; PostgreSQL: against updates
    # PostgreSQL: FOR UPDATE also waits for transactions adding rows that point at the partner (a new job).
    partner = session.scalar(select(Partner).where(Partner.id == partner_id).with_for_update())
    if partner is None:
        raise NotFoundError(f"partner {partner_id!r} does not exist")
    unfinished = unfinished_jobs(session, partner_id)
    if unfinished:
        raise ConflictError(
            f"partner {partner_id!r} has {len(unfinished)} job(s) queued or running: cancel them "
            f"(GET /v1/admin/partners/{partner_id}/jobs, POST .../jobs/{{id}}/cancel) or let them end, then "
            "delete the partner"
        )
    session.delete(partner)
    session.flush()


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.id)))


def partner_config(partner: Partner) -> PartnerConfig:
    """The partner's validated config: stored YAML text wins over a file path; with neither, defaults.

    ``generation.model`` is the folder of the generator version serving the partner, when one is chosen
    (``set_generator_version``, or ``version:<name>`` in the config), so every process loads the same model.
    """
    if partner.config_yaml is not None:
        config = parse_partner_yaml(partner.config_yaml, f"stored config of partner {partner.id!r}")
    elif partner.config_path is not None:
        # Intent names were checked when the file was registered; re-reading the examples every request
        # would cost a file parse each time.
        config = load_partner_config(Path(partner.config_path), check_intents=False)
    else:
        config = PartnerConfig(id=partner.id, name=partner.name)
    if config.id != partner.id:
        raise ConfigError(f"config of partner {partner.id!r} says id {config.id!r}: make them the same")
    version = _serving_version(partner, config)
    return config if version is None else _serving(config, version)


def with_named_version(session: Session, config: PartnerConfig) -> PartnerConfig:
    """A partner file's config (read outside the API: the CLI) whose ``generation.model`` is
    ``version:<name>``, loading that generator version's folder, as the API would.

    Raises:
        ConfigError: the partner has registered no generator version of that name.
    """
    if isinstance(config.generation, OpenAIGeneratorConfig | PluginComponentConfig):
        return config
    if not config.generation.model.startswith(VERSION_PREFIX):
        return config
    return _serving(config, _version_named(session, config.id, config.generation.model))


def _serving(config: PartnerConfig, version: ModelVersion) -> PartnerConfig:
    if isinstance(config.generation, OpenAIGeneratorConfig | PluginComponentConfig):
        raise ConfigError(
            f"partner {config.id!r} serves generator version {version.name!r}, but its generation backend "
            f"is {config.generation.backend}, which loads no local model: set it to transformers or vllm"
        )
    generation = config.generation.model_copy(update={"model": version.path})
    return config.model_copy(update={"generation": generation})


@dataclass(frozen=True)
class ServingGenerator:
    """What answers for a partner: a registered version (or None for its config's model), and the model."""

    version: ModelVersion | None
    model: str


def set_generator_version(session: Session, partner_id: str, ref: str | None) -> ServingGenerator:
    """Serve the partner's generator version ``ref`` (id or name), or its config's model for None.

    Raises:
        NotFoundError: no generator version ``ref`` for this partner.
        ConfigError: the partner's generation backend cannot load a version (openai).
    """
    partner = get_partner(session, partner_id)
    version = None if ref is None else find_model_version(session, partner_id, ModelKind.GENERATOR, ref)
    partner.generator_version_id = None if version is None else version.id
    serving = serving_generator(session, partner_id)  # fails here, not at the partner's next request
    session.flush()
    return serving


def serving_generator(session: Session, partner_id: str) -> ServingGenerator:
    partner = get_partner(session, partner_id)
    config = partner_config(partner)
    return ServingGenerator(_serving_version(partner, config), config.generator_model())


def _serving_version(partner: Partner, config: PartnerConfig) -> ModelVersion | None:
    session = object_session(partner)
    if session is None:  # a partner being created has no versions yet
        return None
    if partner.generator_version_id is not None:
        return get_model_version(session, partner.id, partner.generator_version_id)
    if isinstance(config.generation, OpenAIGeneratorConfig | PluginComponentConfig):
        return None  # the model is a name the server (or plugin) knows, whatever it looks like
    model = config.generation.model
    return _version_named(session, partner.id, model) if model.startswith(VERSION_PREFIX) else None


def _version_named(session: Session, partner_id: str, model: str) -> ModelVersion:
    try:
        return get_model_version_by_name(
            session, partner_id, ModelKind.GENERATOR, model.removeprefix(VERSION_PREFIX)
        )
    except NotFoundError as err:
        raise ConfigError(
            f"generation.model of partner {partner_id!r} names {model!r}, which is not registered: finish a "
            "training run started through the API (POST /v1/training/runs) with that run_name, name a "
            "version from GET /v1/model-versions, or give a model folder (the one naa rl train prints)"
        ) from err


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    session: Session, partner_id: str, name: str, *, is_admin: bool = False
) -> tuple[ApiKey, str]:
    """Create a key for a partner; returns the row and the plaintext key, which is not stored anywhere."""
    get_partner(session, partner_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        partner_id=partner_id,
        name=name,
        key_hash=hash_key(key),
        prefix=key[:_DISPLAY_CHARS],
        is_admin=is_admin,
    )
    session.add(row)
    session.flush()
    return row, key


def authenticate(session: Session, key: str) -> ApiKey:
    """The live key matching ``key``; raises NotFoundError for an unknown or revoked key."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        raise NotFoundError("API key is unknown or revoked; create a new one")
    return row


def list_api_keys(session: Session, partner_id: str) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.partner_id == partner_id).order_by(ApiKey.created_at)
    return list(session.scalars(query))


def revoke_api_key(session: Session, partner_id: str, key_id: str) -> ApiKey:
    """Revoke a key of this partner; revoking twice keeps the first time."""
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.partner_id == partner_id))
    if row is None:
        raise NotFoundError(f"API key {key_id!r} does not exist for partner {partner_id!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
