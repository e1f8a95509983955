"""One settings object for the service, the CLI and the Azure Function, read from the environment.

LiveKit's own variable names (``LIVEKIT_URL``, ``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``) and
``SWITCHBOARD_*`` for the rest. Secrets are ``SecretStr``: they never appear in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.errors import ConfigError

if TYPE_CHECKING:  # the store needs the service extra; settings are read by base commands too
    from switchboard.store import Backoff

DEFAULT_STORE_URL: Final = "sqlite+aiosqlite:///.switchboard/switchboard.db"
"""A SQLite file under the working directory: fine for one replica and for development."""

RunMode = Literal["server", "function"]


class Settings(BaseSettings):
    """Everything the service needs; build it with ``load_settings()`` for variable-named errors."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, frozen=True
    )

    livekit_url: str = Field("", validation_alias=AliasChoices("LIVEKIT_URL", "livekit_url"))
    livekit_api_key: str = Field(
        "", validation_alias=AliasChoices("LIVEKIT_API_KEY", "livekit_api_key")
    )
    livekit_api_secret: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("LIVEKIT_API_SECRET", "livekit_api_secret")
    )
    rules: Path | None = Field(None, validation_alias=AliasChoices("SWITCHBOARD_RULES", "rules"))
    store_url: str = Field(
        DEFAULT_STORE_URL, validation_alias=AliasChoices("SWITCHBOARD_STORE_URL", "store_url")
    )
    token_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SWITCHBOARD_TOKEN_SECRET", "token_secret")
    )
    mode: RunMode = Field("server", validation_alias=AliasChoices("SWITCHBOARD_MODE", "mode"))
    max_attempts: int = Field(
        6, ge=1, validation_alias=AliasChoices("SWITCHBOARD_DISPATCH_MAX_ATTEMPTS", "max_attempts")
    )
    missing_room_attempts: int = Field(
        3,
        ge=1,
        validation_alias=AliasChoices("SWITCHBOARD_MISSING_ROOM_ATTEMPTS", "missing_room_attempts"),
    )
    backoff_base_seconds: float = Field(
        0.5,
        gt=0,
        validation_alias=AliasChoices("SWITCHBOARD_BACKOFF_BASE_SECONDS", "backoff_base_seconds"),
    )
    backoff_max_seconds: float = Field(
        30.0,
        gt=0,
        validation_alias=AliasChoices("SWITCHBOARD_BACKOFF_MAX_SECONDS", "backoff_max_seconds"),
    )
    lease_seconds: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("SWITCHBOARD_LEASE_SECONDS", "lease_seconds")
    )
    poll_interval: float = Field(
        0.5, gt=0, validation_alias=AliasChoices("SWITCHBOARD_POLL_INTERVAL", "poll_interval")
    )
    reconcile_interval: float = Field(
        30.0,
        ge=0,
        validation_alias=AliasChoices("SWITCHBOARD_RECONCILE_INTERVAL", "reconcile_interval"),
    )
    unserved_dispatch_seconds: float = Field(
        15.0,
        gt=0,
        validation_alias=AliasChoices(
            "SWITCHBOARD_UNSERVED_DISPATCH_SECONDS", "unserved_dispatch_seconds"
        ),
    )
    dispatch_concurrency: int = Field(
        32,
        ge=1,
        validation_alias=AliasChoices("SWITCHBOARD_DISPATCH_CONCURRENCY", "dispatch_concurrency"),
    )
    inline_budget_seconds: float = Field(
        5.0,
        gt=0,
        validation_alias=AliasChoices("SWITCHBOARD_INLINE_BUDGET_SECONDS", "inline_budget_seconds"),
    )
    worker_id: str = Field("", validation_alias=AliasChoices("SWITCHBOARD_WORKER_ID", "worker_id"))
    watchdog_seconds: float = Field(
        0.0,
        ge=0,
        validation_alias=AliasChoices("SWITCHBOARD_WATCHDOG_SECONDS", "watchdog_seconds"),
    )
    watchdog_join_seconds: float = Field(
        20.0,
        gt=0,
        validation_alias=AliasChoices("SWITCHBOARD_WATCHDOG_JOIN_SECONDS", "watchdog_join_seconds"),
    )
    watchdog_max_recoveries: int = Field(
        2,
        ge=0,
        validation_alias=AliasChoices(
            "SWITCHBOARD_WATCHDOG_MAX_RECOVERIES", "watchdog_max_recoveries"
        ),
    )
    watchdog_overflow_agent: str = Field(
        "",
        validation_alias=AliasChoices(
            "SWITCHBOARD_WATCHDOG_OVERFLOW_AGENT", "watchdog_overflow_agent"
        ),
    )
    watchdog_interval: float = Field(
        0.5,
        gt=0,
        validation_alias=AliasChoices("SWITCHBOARD_WATCHDOG_INTERVAL", "watchdog_interval"),
    )

    @model_validator(mode="after")
    def _check_backoff(self) -> Settings:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError(
                "SWITCHBOARD_BACKOFF_MAX_SECONDS must be >= SWITCHBOARD_BACKOFF_BASE_SECONDS"
            )
        return self

    @property
    def backoff(self) -> Backoff:
        """The retry backoff for dispatch jobs."""
        from switchboard.store import Backoff

        return Backoff(base_seconds=self.backoff_base_seconds, max_seconds=self.backoff_max_seconds)

    @property
    def has_livekit(self) -> bool:
        """True when all three ``LIVEKIT_*`` variables are set."""
        return bool(
            self.livekit_url and self.livekit_api_key and self.livekit_api_secret.get_secret_value()
        )

    def require_livekit(self, needed_by: str = "the service") -> None:
        """Raise ``ConfigError`` naming each missing ``LIVEKIT_*`` variable (and who needs it)."""
        missing = [
            name
            for name, value in (
                ("LIVEKIT_URL", self.livekit_url),
                ("LIVEKIT_API_KEY", self.livekit_api_key),
                ("LIVEKIT_API_SECRET", self.livekit_api_secret.get_secret_value()),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} not set: {needed_by} needs LIVEKIT_URL, LIVEKIT_API_KEY "
                "and LIVEKIT_API_SECRET (the server's URL and an API key pair from its keys:)"
            )

    def require_rules(self) -> Path:
        """The rules file path; raise ``ConfigError`` when ``SWITCHBOARD_RULES`` is not set."""
        if self.rules is None:
            raise ConfigError(
                "SWITCHBOARD_RULES not set: point it (or --rules) at a rules YAML file, "
                "e.g. examples/rules/seed.yaml"
            )
        return self.rules


_VARIABLES = {
    "livekit_url": "LIVEKIT_URL",
    "livekit_api_key": "LIVEKIT_API_KEY",
    "livekit_api_secret": "LIVEKIT_API_SECRET",
    "rules": "SWITCHBOARD_RULES",
    "store_url": "SWITCHBOARD_STORE_URL",
    "token_secret": "SWITCHBOARD_TOKEN_SECRET",
    "mode": "SWITCHBOARD_MODE",
    "max_attempts": "SWITCHBOARD_DISPATCH_MAX_ATTEMPTS",
    "missing_room_attempts": "SWITCHBOARD_MISSING_ROOM_ATTEMPTS",
    "backoff_base_seconds": "SWITCHBOARD_BACKOFF_BASE_SECONDS",
    "backoff_max_seconds": "SWITCHBOARD_BACKOFF_MAX_SECONDS",
    "lease_seconds": "SWITCHBOARD_LEASE_SECONDS",
    "poll_interval": "SWITCHBOARD_POLL_INTERVAL",
    "reconcile_interval": "SWITCHBOARD_RECONCILE_INTERVAL",
    "dispatch_concurrency": "SWITCHBOARD_DISPATCH_CONCURRENCY",
    "inline_budget_seconds": "SWITCHBOARD_INLINE_BUDGET_SECONDS",
    "worker_id": "SWITCHBOARD_WORKER_ID",
    "watchdog_seconds": "SWITCHBOARD_WATCHDOG_SECONDS",
    "watchdog_join_seconds": "SWITCHBOARD_WATCHDOG_JOIN_SECONDS",
    "watchdog_max_recoveries": "SWITCHBOARD_WATCHDOG_MAX_RECOVERIES",
    "watchdog_overflow_agent": "SWITCHBOARD_WATCHDOG_OVERFLOW_AGENT",
    "watchdog_interval": "SWITCHBOARD_WATCHDOG_INTERVAL",
}


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (``overrides`` win, by field name); raise ``ConfigError`` naming
    each bad variable. Values are never echoed, as some are secrets."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = _VARIABLES.get(field, field or "settings")
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
