"""The model registry: named versions per partner and kind, newest first."""

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from naa.errors import ConflictError, NotFoundError
from naa.storage.model_versions import (
    check_name_free,
    find_model_version,
    get_model_version,
    get_model_version_by_name,
    latest_model_version,
    list_model_versions,
    register_job_result,
    register_model_version,
)
from naa.storage.models import ModelKind


def test_latest_version_is_the_newest_of_its_kind(session: Session, two_partners: tuple[str, str]) -> None:
    register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"), {"pass@1": 0.41})
    second = register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-2", Path("/m/2"))
    register_model_version(session, "acme", ModelKind.INTENT, "intent-1", Path("/m/i"))
    assert latest_model_version(session, "acme", ModelKind.GENERATOR).id == second.id
    assert get_model_version_by_name(session, "acme", ModelKind.GENERATOR, "grpo-1").metrics == {
        "pass@1": 0.41
    }
    assert [v.name for v in list_model_versions(session, "acme", kind=ModelKind.GENERATOR)] == [
        "grpo-2",
        "grpo-1",
    ]


def test_names_are_unique_per_partner_and_kind(session: Session, two_partners: tuple[str, str]) -> None:
    register_model_version(session, "acme", ModelKind.GENERATOR, "v1", Path("/m/1"))
    with pytest.raises(ConflictError, match="v1"):
        register_model_version(session, "acme", ModelKind.GENERATOR, "v1", Path("/m/other"))
    register_model_version(session, "globex", ModelKind.GENERATOR, "v1", Path("/g/1"))


def test_a_job_delivered_twice_keeps_its_one_version_but_cannot_take_anothers_name(
    session: Session, two_partners: tuple[str, str]
) -> None:
    first = register_job_result(session, "acme", ModelKind.GENERATOR, "job-1", Path("/m/job-1"))
    again = register_job_result(session, "acme", ModelKind.GENERATOR, "job-1", Path("/m/job-1"))
    assert again.id == first.id
    assert len(list_model_versions(session, "acme")) == 1
    with pytest.raises(ConflictError, match="/m/job-1"):
        register_job_result(session, "acme", ModelKind.GENERATOR, "job-1", Path("/m/job-2"))


def test_versions_are_scoped_to_their_partner(session: Session, two_partners: tuple[str, str]) -> None:
    version = register_model_version(session, "acme", ModelKind.GENERATOR, "v1", Path("/m/1"))
    with pytest.raises(NotFoundError):
        get_model_version(session, "globex", version.id)
    with pytest.raises(NotFoundError, match="no generator"):
        latest_model_version(session, "globex", ModelKind.GENERATOR)
    assert get_model_version(session, "acme", version.id).path == "/m/1"


def test_a_version_is_found_by_id_or_name_within_its_partner_and_kind(
    session: Session, two_partners: tuple[str, str]
) -> None:
    version = register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"))
    register_model_version(session, "acme", ModelKind.INTENT, "intent-1", Path("/m/i"))
    assert find_model_version(session, "acme", ModelKind.GENERATOR, version.id).id == version.id
    assert find_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1").id == version.id
    for partner, kind, ref in [
        ("globex", ModelKind.GENERATOR, "grpo-1"),
        ("globex", ModelKind.GENERATOR, version.id),
        ("acme", ModelKind.GENERATOR, "intent-1"),
    ]:
        with pytest.raises(NotFoundError, match=ref):
            find_model_version(session, partner, kind, ref)


def test_a_taken_name_is_refused_before_a_run_would_register_it(
    session: Session, two_partners: tuple[str, str]
) -> None:
    register_model_version(session, "acme", ModelKind.GENERATOR, "grpo-1", Path("/m/1"))
    with pytest.raises(ConflictError, match="grpo-1"):
        check_name_free(session, "acme", ModelKind.GENERATOR, "grpo-1")
    check_name_free(session, "globex", ModelKind.GENERATOR, "grpo-1")
    check_name_free(session, "acme", ModelKind.INTENT, "grpo-1")
