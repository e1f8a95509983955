"""The console signs join tokens with the service's builder: agents and room metadata alike."""

from __future__ import annotations

import asyncio

from livekit import api

from switchboard.console import TokenRequest, rules_token_maker
from switchboard.livekit import join_token
from switchboard.rules import agents_for_join, load_rules_text

KEY, SECRET = "key", "secret-" + "x" * 32
RULES = load_rules_text(
    """\
version: 1
rules:
  - id: vip
    when: {room.metadata.tier: gold}
    then: {dispatch: [{agent: qualifier}]}
default: nobody
""",
    "rules.yaml",
)


def test_console_token_carries_room_metadata_and_the_agents_it_selects() -> None:
    make_token = rules_token_maker("ws://lk", KEY, SECRET, lambda: RULES)
    request = TokenRequest(room="r1", identity="alice", room_metadata='{"tier":"gold"}')

    grant = asyncio.run(make_token(request))

    claims = api.TokenVerifier(KEY, SECRET).verify(grant.token)
    assert grant.agents == ["qualifier"]
    assert claims.room_config is not None
    assert claims.room_config.metadata == '{"tier":"gold"}'
    assert [a.agent_name for a in claims.room_config.agents] == ["qualifier"]


def test_console_token_has_the_same_claims_as_the_service_token() -> None:
    request = TokenRequest(
        room="r1", identity="bob", name="Bob", metadata="m", attributes={"k": "v"}
    )
    grant = asyncio.run(rules_token_maker("ws://lk", KEY, SECRET, lambda: RULES)(request))
    service = join_token(
        KEY,
        SECRET,
        room="r1",
        identity="bob",
        agents=agents_for_join(RULES, "r1", "", "bob", {"k": "v"}),
        name="Bob",
        metadata="m",
        attributes={"k": "v"},
    )

    verify = api.TokenVerifier(KEY, SECRET).verify
    console_claims, service_claims = verify(grant.token), verify(service)
    assert console_claims.identity == service_claims.identity == "bob"
    assert (console_claims.name, console_claims.metadata) == ("Bob", "m")
    assert console_claims.attributes == service_claims.attributes == {"k": "v"}
    assert console_claims.video == service_claims.video
    assert console_claims.room_config == service_claims.room_config


def test_a_listen_only_token_keeps_its_room_and_narrowed_grants() -> None:
    grants = api.VideoGrants(hidden=True, can_publish=False, can_subscribe=False)
    claims = api.TokenVerifier(KEY, SECRET).verify(
        join_token(KEY, SECRET, room="r2", identity="listener", grants=grants)
    )
    assert claims.video is not None
    assert (claims.video.room, claims.video.room_join) == ("r2", True)
    assert claims.video.hidden and not claims.video.can_publish and not claims.video.can_subscribe
    assert not claims.room_config or not claims.room_config.agents
    assert grants.room == ""  # the caller's grants are not changed
