"""Each setting is declared once; its environment variable is derived, and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.errors import ConfigError
from switchboard.settings import Settings, load_settings, variable_of

DOCS = Path(__file__).parents[3] / "docs" / "service.md"


def test_every_variable_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "ws://livekit.example")
    monkeypatch.setenv("SWITCHBOARD_DISPATCH_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("SWITCHBOARD_WATCHDOG_SECONDS", "1.5")

    settings = load_settings()

    assert settings.livekit_url == "ws://livekit.example"
    assert settings.max_attempts == 2
    assert settings.watchdog_seconds == 1.5


def test_fields_are_named_by_their_variable() -> None:
    assert variable_of("livekit_api_secret") == "LIVEKIT_API_SECRET"
    assert variable_of("max_attempts") == "SWITCHBOARD_DISPATCH_MAX_ATTEMPTS"
    assert variable_of("unserved_dispatch_seconds") == "SWITCHBOARD_UNSERVED_DISPATCH_SECONDS"


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_UNSERVED_DISPATCH_SECONDS", "-1")

    with pytest.raises(ConfigError, match="SWITCHBOARD_UNSERVED_DISPATCH_SECONDS"):
        load_settings()


def test_docs_name_every_variable() -> None:
    text = DOCS.read_text()

    missing = [variable_of(f) for f in Settings.model_fields if variable_of(f) not in text]

    assert missing == []
