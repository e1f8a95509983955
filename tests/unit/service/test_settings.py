"""Settings: every invalid value fails with the variable's name, never with the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import ConfigError
from switchboard.settings import load_settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SWITCHBOARD_DISPATCH_MAX_ATTEMPTS", "0"),
        ("SWITCHBOARD_MISSING_ROOM_ATTEMPTS", "zero"),
        ("SWITCHBOARD_BACKOFF_BASE_SECONDS", "-1"),
        ("SWITCHBOARD_LEASE_SECONDS", "0"),
        ("SWITCHBOARD_POLL_INTERVAL", "soon"),
        ("SWITCHBOARD_RECONCILE_INTERVAL", "-5"),
        ("SWITCHBOARD_DISPATCH_CONCURRENCY", "0"),
        ("SWITCHBOARD_INLINE_BUDGET_SECONDS", "0"),
        ("SWITCHBOARD_MODE", "lambda"),
    ],
)
def test_an_invalid_variable_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"invalid settings: {variable}: "):
        load_settings()


def test_the_secret_value_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s3cr3t-value")
    monkeypatch.setenv("SWITCHBOARD_LEASE_SECONDS", "0")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "s3cr3t-value" not in str(raised.value)
    settings = load_settings(lease_seconds=1)
    assert "s3cr3t-value" not in repr(settings)
    assert settings.livekit_api_secret.get_secret_value() == "s3cr3t-value"


def test_backoff_max_below_base_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_BACKOFF_BASE_SECONDS", "5")
    monkeypatch.setenv("SWITCHBOARD_BACKOFF_MAX_SECONDS", "1")
    with pytest.raises(ConfigError, match="SWITCHBOARD_BACKOFF_MAX_SECONDS must be >= SWITCH"):
        load_settings()


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_STORE_URL", "sqlite+aiosqlite:///env.db")
    monkeypatch.setenv("SWITCHBOARD_DISPATCH_MAX_ATTEMPTS", "4")
    settings = load_settings(store_url="sqlite+aiosqlite:///flag.db", rules=None)
    assert settings.store_url == "sqlite+aiosqlite:///flag.db"
    assert settings.max_attempts == 4
    assert settings.backoff.base_seconds == 0.5


def test_require_livekit_names_each_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(livekit_api_key="key")
    assert not settings.has_livekit
    with pytest.raises(ConfigError) as raised:
        settings.require_livekit()
    message = str(raised.value)
    assert message.startswith("LIVEKIT_URL, LIVEKIT_API_SECRET not set")
    complete = load_settings(livekit_url="ws://x", livekit_api_key="k", livekit_api_secret="s")
    assert complete.has_livekit
    complete.require_livekit()


def test_require_rules_says_what_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SWITCHBOARD_RULES", raising=False)
    with pytest.raises(ConfigError, match="SWITCHBOARD_RULES not set"):
        load_settings().require_rules()
    assert load_settings(rules=tmp_path / "r.yaml").require_rules() == tmp_path / "r.yaml"


def test_the_store_pool_holds_a_whole_claim_and_spares(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().store_pool_size == 32 + 8
    monkeypatch.setenv("SWITCHBOARD_DISPATCH_CONCURRENCY", "64")
    assert load_settings().store_pool_size == 64 + 8
