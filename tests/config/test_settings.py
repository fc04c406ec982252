"""NAA_ variables read into NAASettings: refused values named by their variable."""

import pytest

from naa.config.settings import MIN_ADMIN_KEY_CHARS, NAASettings
from naa.errors import ConfigError


def test_a_blank_admin_key_leaves_the_admin_routes_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # docker/env.example holds `NAA_ADMIN_KEY=`: read as a key of "", not as no key.
    monkeypatch.setenv("NAA_ADMIN_KEY", "")
    assert NAASettings.from_env().admin_key is None


def test_an_admin_key_of_the_minimum_length_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAA_ADMIN_KEY", "k" * MIN_ADMIN_KEY_CHARS)
    key = NAASettings.from_env().admin_key
    assert key is not None and key.get_secret_value() == "k" * MIN_ADMIN_KEY_CHARS
    monkeypatch.setenv("NAA_ADMIN_KEY", "k" * (MIN_ADMIN_KEY_CHARS - 1))
    with pytest.raises(ConfigError, match=f"^NAA_ADMIN_KEY: .*has {MIN_ADMIN_KEY_CHARS - 1} characters"):
        NAASettings.from_env()
