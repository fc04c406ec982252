"""The demo partner's key: made once, kept across restarts, replaced on request."""

from pathlib import Path

from api.onboarding import register_partner_file
from naa.cli.common import DEMO_PARTNER
from naa.config.settings import NAASettings
from naa.errors import NotFoundError
from naa.storage import partners
from naa.storage.session import database_session


def _authenticates(settings: NAASettings, key: str) -> bool:
    with database_session(settings.resolved_database_url()) as session:
        try:
            partners.authenticate(session, key)
        except NotFoundError:
            return False
        return True


def test_a_restart_keeps_the_key_and_a_new_key_revokes_the_old_one(tmp_path: Path) -> None:
    # Each start minted another key, and every one printed before stayed valid.
    settings = NAASettings(data_dir=tmp_path)
    first = register_partner_file(settings, DEMO_PARTNER)
    assert first is not None and first.startswith("naa_")
    assert register_partner_file(settings, DEMO_PARTNER) is None
    assert _authenticates(settings, first)
    replaced = register_partner_file(settings, DEMO_PARTNER, new_key=True)
    assert replaced is not None and replaced != first
    assert _authenticates(settings, replaced) and not _authenticates(settings, first)
    assert register_partner_file(settings, DEMO_PARTNER, key_name="benchmark") is not None  # one per name
