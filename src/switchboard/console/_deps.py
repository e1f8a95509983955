"""What the console needs from its host: LiveKit credentials, the secret, the store, tokens, SIP."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.livekit import join_token
from switchboard.rules import CompiledRules, RulesHolder, agents_for_join
from switchboard.store import Store

OUTBOUND_TRUNK_ENV = "SWITCHBOARD_SIP_OUTBOUND_TRUNK_ID"


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A browser's request to join ``room`` as ``identity`` (the body of ``POST /token``)."""

    room: str
    identity: str
    name: str = ""
    metadata: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    room_metadata: str = ""


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A join token, the URL to connect to, and the agents its room configuration names."""

    token: str
    url: str
    agents: list[str]


TokenMaker = Callable[[TokenRequest], Awaitable[TokenGrant]]
StoreSource = Store | str | Callable[[], Store]
"""An open ``Store``, a store URL (opened on first use), or a function returning the host's."""


@dataclass(frozen=True)
class ConsoleDeps:
    """Everything ``switchboard.console.routes`` needs; build it with ``from_settings``.

    ``livekit_url`` is what browsers connect to (ws:// or wss://); ``api_url`` what the console
    calls (defaults to ``livekit_url``). ``token_secret`` guards every console route.
    """

    livekit_url: str
    api_key: str
    api_secret: str
    token_secret: str
    store: StoreSource
    make_token: TokenMaker
    sip_outbound_trunk_id: str = ""
    api_url: str = ""
    poll_interval: float = 1.0

    @classmethod
    def from_settings(
        cls,
        settings: object,
        *,
        store: StoreSource | None = None,
        rules: Callable[[], CompiledRules] | None = None,
        make_token: TokenMaker | None = None,
        sip_outbound_trunk_id: str | None = None,
    ) -> ConsoleDeps:
        """From a ``switchboard.settings.Settings`` (duck-typed: ``livekit_url``,
        ``livekit_api_key``, ``livekit_api_secret``, ``token_secret``, ``store_url``, ``rules``).

        ``rules`` defaults to hot-reloading ``settings.rules``; the outbound trunk defaults to
        ``$SWITCHBOARD_SIP_OUTBOUND_TRUNK_ID``.
        """
        url = str(getattr(settings, "livekit_url", ""))
        key = str(getattr(settings, "livekit_api_key", ""))
        secret = _reveal(getattr(settings, "livekit_api_secret", ""))
        if make_token is None:
            if rules is None:
                rules = _rules_from_path(getattr(settings, "rules", None))
            make_token = rules_token_maker(url, key, secret, rules)
        if sip_outbound_trunk_id is None:
            sip_outbound_trunk_id = os.environ.get(OUTBOUND_TRUNK_ENV, "")
        return cls(
            livekit_url=url,
            api_key=key,
            api_secret=secret,
            token_secret=_reveal(getattr(settings, "token_secret", None)),
            store=store if store is not None else str(getattr(settings, "store_url", "")),
            make_token=make_token,
            sip_outbound_trunk_id=sip_outbound_trunk_id,
        )


def rules_token_maker(
    livekit_url: str, api_key: str, api_secret: str, rules: Callable[[], CompiledRules]
) -> TokenMaker:
    """Tokens like the service's ``POST /token`` (the same builder): ``RoomConfiguration.agents``
    from the rules, and ``room_metadata`` for the room the join may create."""

    async def make_token(request: TokenRequest) -> TokenGrant:
        agents = agents_for_join(
            rules(),
            request.room,
            request.room_metadata,
            request.identity,
            request.attributes,
        )
        token = join_token(
            api_key,
            api_secret,
            room=request.room,
            identity=request.identity,
            agents=agents,
            name=request.name,
            metadata=request.metadata,
            attributes=request.attributes,
            room_metadata=request.room_metadata,
        )
        return TokenGrant(token, livekit_url, [agent.agent for agent in agents])

    return make_token


def _rules_from_path(path: object) -> Callable[[], CompiledRules]:
    if not path:
        raise ValueError(
            "the console needs the rules to make tokens: set SWITCHBOARD_RULES, or pass rules= "
            "or make_token= to ConsoleDeps.from_settings"
        )
    holder = RulesHolder(Path(str(path)))

    def current() -> CompiledRules:
        holder.reload_if_changed()
        return holder.rules

    return current


def _reveal(value: object) -> str:
    if value is None:
        return ""
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if callable(reveal) else value)
