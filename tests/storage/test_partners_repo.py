"""Partners, their stored configs, and API keys shown once and kept only as a hash."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from naa.errors import ConfigError, ConflictError, NotFoundError
from naa.generation.config import DEFAULT_GENERATOR_MODEL
from naa.storage.conversations import create_conversation
from naa.storage.jobs import cancel_job, create_job
from naa.storage.model_versions import register_model_version
from naa.storage.models import ApiKey, Conversation, Job, JobKind, ModelKind, ModelVersion
from naa.storage.partners import (
    ServingGenerator,
    authenticate,
    create_api_key,
    create_partner,
    delete_partner,
    get_partner,
    list_api_keys,
    list_partners,
    partner_config,
    revoke_api_key,
    serving_generator,
    set_generator_version,
    update_partner,
)


def test_partner_ids_are_unique(session: Session, two_partners: tuple[str, str]) -> None:
    with pytest.raises(ConflictError, match="acme"):
        create_partner(session, "acme", "Another Acme")
    assert [p.id for p in list_partners(session)] == ["acme", "globex"]


def test_unknown_partner_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="nobody"):
        get_partner(session, "nobody")


def test_api_key_is_stored_only_as_its_sha256(session: Session, two_partners: tuple[str, str]) -> None:
    row, key = create_api_key(session, "acme", "console")
    assert key.startswith("naa_") and len(key) > 40
    stored = session.scalar(select(ApiKey).where(ApiKey.id == row.id))
    assert stored is not None
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (stored.key_hash, stored.prefix)
    assert key.startswith(stored.prefix)


def test_authenticate_returns_the_key_of_its_partner(session: Session, two_partners: tuple[str, str]) -> None:
    _, acme_key = create_api_key(session, "acme", "console")
    _, globex_key = create_api_key(session, "globex", "console", is_admin=True)
    assert authenticate(session, acme_key).partner_id == "acme"
    found = authenticate(session, globex_key)
    assert (found.partner_id, found.is_admin) == ("globex", True)
    with pytest.raises(NotFoundError):
        authenticate(session, acme_key + "x")


def test_revoked_key_no_longer_authenticates(session: Session, two_partners: tuple[str, str]) -> None:
    row, key = create_api_key(session, "acme", "old")
    revoked = revoke_api_key(session, "acme", row.id)
    assert revoked.revoked_at is not None
    with pytest.raises(NotFoundError, match="revoked"):
        authenticate(session, key)


def test_partner_cannot_see_or_revoke_another_partners_keys(
    session: Session, two_partners: tuple[str, str]
) -> None:
    row, key = create_api_key(session, "acme", "console")
    assert list_api_keys(session, "globex") == []
    with pytest.raises(NotFoundError):
        revoke_api_key(session, "globex", row.id)
    assert authenticate(session, key).revoked_at is None


def test_key_for_unknown_partner_is_refused(session: Session) -> None:
    with pytest.raises(NotFoundError):
        create_api_key(session, "nobody", "console")


def test_config_from_stored_yaml(session: Session) -> None:
    partner = create_partner(
        session, "acme", "Acme", config_yaml="id: acme\nname: Acme\nintent:\n  threshold: 0.7\n"
    )
    config = partner_config(partner)
    assert (config.id, config.intent.threshold) == ("acme", 0.7)


def test_config_from_path_and_default(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("id: acme\nname: Acme\nknowledge_base:\n  sources: [docs]\n", encoding="utf-8")
    from_file = partner_config(create_partner(session, "acme", "Acme", config_path=path))
    assert from_file.knowledge_base.sources == [(tmp_path / "docs").resolve()]
    default = partner_config(create_partner(session, "globex", "Globex"))
    assert (default.id, default.name) == ("globex", "Globex")


def test_invalid_config_is_refused_with_its_field(session: Session) -> None:
    with pytest.raises(ConfigError, match="partner 'acme': intnet: Extra inputs"):
        create_partner(session, "acme", "Acme", config_yaml="id: acme\nname: Acme\nintnet: {}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        create_partner(session, "acme", "Acme", config_yaml="id: [unclosed")
    assert list_partners(session) == []


def test_config_naming_another_partner_is_refused(session: Session) -> None:
    with pytest.raises(ConfigError, match="says id 'globex'"):
        create_partner(session, "acme", "Acme", config_yaml="id: globex\nname: Globex\n")


def test_deleting_a_partner_removes_its_rows(session: Session, two_partners: tuple[str, str]) -> None:
    create_api_key(session, "acme", "console")
    create_conversation(session, "acme")
    create_conversation(session, "globex")
    session.delete(get_partner(session, "acme"))
    session.flush()
    session.expunge_all()
    assert session.scalars(select(ApiKey)).all() == []
    assert [c.partner_id for c in session.scalars(select(Conversation))] == ["globex"]


def test_a_stored_config_is_replaced_with_its_name(session: Session) -> None:
    create_partner(session, "acme", "Acme", config_yaml="id: acme\nname: Acme\n")
    text = "id: acme\nname: Acme Mobile\nhandoff:\n  always: [complaint]\n"
    updated = update_partner(session, "acme", "Acme Mobile", text)
    assert (updated.name, updated.config_yaml) == ("Acme Mobile", text)
    assert partner_config(get_partner(session, "acme")).handoff.always == ["complaint"]
    with pytest.raises(ConfigError, match="says id 'globex'"):
        update_partner(session, "acme", "Globex", "id: globex\nname: Globex\n")
    with pytest.raises(NotFoundError, match="nobody"):
        update_partner(session, "nobody", "Nobody", "id: nobody\nname: Nobody\n")


def test_a_config_read_from_a_file_is_not_replaced(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("id: acme\nname: Acme\n", encoding="utf-8")
    create_partner(session, "acme", "Acme", config_path=path)
    with pytest.raises(ConflictError, match=f"read from its file {path}: edit that file"):
        update_partner(session, "acme", "Acme", "id: acme\nname: Acme\n")


def test_deleting_a_partner_takes_its_keys_jobs_and_versions(
    session: Session, two_partners: tuple[str, str]
) -> None:
    create_api_key(session, "acme", "console")
    create_conversation(session, "acme")
    register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"))
    cancel_job(session, "acme", create_job(session, "acme", JobKind.KB_INDEX).id)
    delete_partner(session, "acme")
    session.expunge_all()
    assert [p.id for p in list_partners(session)] == ["globex"]
    for table in (ApiKey, Conversation, Job, ModelVersion):
        assert session.scalars(select(table)).all() == [], table
    with pytest.raises(NotFoundError, match="acme"):
        delete_partner(session, "acme")
    create_partner(session, "acme", "Acme again")  # the id is free again


def test_a_partner_with_a_job_not_ended_is_not_deleted(
    session: Session, two_partners: tuple[str, str]
) -> None:
    create_job(session, "acme", JobKind.INTENT_TRAIN)
    with pytest.raises(ConflictError, match="partner 'acme' has 1 job"):
        delete_partner(session, "acme")
    assert get_partner(session, "acme").name == "Acme Corp"


def test_a_chosen_generator_version_serves_until_reset_to_the_config_model(
    session: Session, two_partners: tuple[str, str]
) -> None:
    version = register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"))
    assert serving_generator(session, "acme") == ServingGenerator(None, DEFAULT_GENERATOR_MODEL)
    assert set_generator_version(session, "acme", "grpo-1") == ServingGenerator(version, "/m/1")
    assert partner_config(get_partner(session, "acme")).generation.model == "/m/1"
    assert get_partner(session, "acme").generator_version_id == version.id
    assert serving_generator(session, "globex").version is None
    assert set_generator_version(session, "acme", None) == ServingGenerator(None, DEFAULT_GENERATOR_MODEL)


def test_another_partners_or_an_intent_version_cannot_be_served(
    session: Session, two_partners: tuple[str, str]
) -> None:
    theirs = register_model_version(session, "globex", ModelKind.GENERATOR, "g-1", Path("/m/g"))
    register_model_version(session, "acme", ModelKind.INTENT, "intent-1", Path("/m/i"))
    for ref in (theirs.id, "g-1", "intent-1"):
        with pytest.raises(NotFoundError):
            set_generator_version(session, "acme", ref)
    assert get_partner(session, "acme").generator_version_id is None


def test_a_config_names_a_version_and_an_openai_backend_cannot_serve_one(session: Session) -> None:
    by_name = "id: acme\nname: Acme\ngeneration:\n  backend: transformers\n  model: version:grpo-1\n"
    partner = create_partner(session, "acme", "Acme", config_yaml=by_name)
    with pytest.raises(ConfigError, match="'version:grpo-1', which is not registered"):
        partner_config(partner)
    register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"))
    assert serving_generator(session, "acme").model == "/m/1"
    remote = "id: globex\nname: Globex\ngeneration:\n  backend: openai\n  base_url: http://x/v1\n  model: m\n"
    create_partner(session, "globex", "Globex", config_yaml=remote)
    register_model_version(session, "globex", ModelKind.GENERATOR, "g-1", Path("/m/g"))
    with pytest.raises(ConfigError, match="backend is openai"):
        set_generator_version(session, "globex", "g-1")
