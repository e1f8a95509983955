"""One settings object for the service, the CLI and the Azure Function, read from the environment.

LiveKit's own variable names (``LIVEKIT_URL``, ``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``) and
``SWITCHBOARD_*`` for the rest. Secrets are ``SecretStr``: they never appear in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard import defaults
from switchboard.errors import ConfigError

if TYPE_CHECKING:  # the store needs the service extra; settings are read by base commands too
    from switchboard.store import Backoff

DEFAULT_STORE_URL: Final = defaults.STORE_URL

RunMode = Literal["server", "function"]

ENV_PREFIX: Final = "SWITCHBOARD_"


class Settings(BaseSettings):
    """Everything the service needs; build it with ``load_settings()`` for variable-named errors."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", populate_by_name=True, frozen=True
    )

    # LiveKit's own names; every other field is read from SWITCHBOARD_<FIELD NAME>.
    livekit_url: str = Field("", validation_alias="LIVEKIT_URL")
    livekit_api_key: str = Field("", validation_alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr = Field(SecretStr(""), validation_alias="LIVEKIT_API_SECRET")
    rules: Path | None = None
    store_url: str = DEFAULT_STORE_URL
    token_secret: SecretStr | None = None
    mode: RunMode = "server"
    max_attempts: int = Field(
        defaults.DISPATCH_MAX_ATTEMPTS, ge=1, validation_alias=f"{ENV_PREFIX}DISPATCH_MAX_ATTEMPTS"
    )
    missing_room_attempts: int = Field(3, ge=1)
    backoff_base_seconds: float = Field(defaults.BACKOFF_BASE_SECONDS, gt=0)
    backoff_max_seconds: float = Field(defaults.BACKOFF_MAX_SECONDS, gt=0)
    lease_seconds: float = Field(30.0, gt=0)
    poll_interval: float = Field(0.5, gt=0)
    reconcile_interval: float = Field(30.0, ge=0)
    unserved_dispatch_seconds: float = Field(15.0, gt=0)
    dispatch_concurrency: int = Field(defaults.DISPATCH_CONCURRENCY, ge=1)
    inline_budget_seconds: float = Field(5.0, gt=0)
    worker_id: str = ""
    watchdog_seconds: float = Field(0.0, ge=0)
    watchdog_join_seconds: float = Field(20.0, gt=0)
    watchdog_max_recoveries: int = Field(2, ge=0)
    watchdog_overflow_agent: str = ""
    watchdog_interval: float = Field(0.5, gt=0)

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
    def store_pool_size(self) -> int:
        """PostgreSQL connections the store keeps: one per concurrent dispatch, and spares."""
        return self.dispatch_concurrency + defaults.STORE_SPARE_CONNECTIONS

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


def variable_of(field: str) -> str:
    """The environment variable a settings field is read from (``lease_seconds`` →
    ``SWITCHBOARD_LEASE_SECONDS``); the field's own name when there is no such field."""
    info = Settings.model_fields.get(field)
    if info is None:
        return field
    return str(info.validation_alias or f"{ENV_PREFIX}{field.upper()}")


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
            name = variable_of(field) if field else "settings"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
