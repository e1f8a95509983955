"""The pure parts of the LiveKit adapters: error translation, join tokens, webhook rooms."""

from __future__ import annotations

import aiohttp
import pytest
from livekit import api

from switchboard.livekit import RoomState, join_token
from switchboard.livekit.errors import translate
from switchboard.rules import AgentDispatch, RoomEvent

KEY, SECRET = "key", "secret-" + "x" * 32


@pytest.mark.parametrize(
    ("code", "status", "retryable", "hint"),
    [
        ("unavailable", 503, True, "asked again"),
        ("resource_exhausted", 429, True, "asked again"),
        ("not_found", 404, False, "refused"),
        ("unauthenticated", 401, False, "check LIVEKIT_API_KEY and LIVEKIT_API_SECRET"),
        ("malformed", 500, True, "asked again"),
    ],
)
def test_twirp_errors_are_retryable_for_5xx_and_transient_codes(
    code: str, status: int, retryable: bool, hint: str
) -> None:
    error = translate(api.TwirpError(code, "boom", status=status), "CreateDispatch", "ws://lk")
    assert error.retryable is retryable
    assert error.status == status
    assert str(error).startswith(f"CreateDispatch: LiveKit answered {status} {code}: boom (")
    assert hint in str(error)


@pytest.mark.parametrize(
    "exc", [TimeoutError(), aiohttp.ClientConnectionError("refused"), OSError()]
)
def test_timeouts_and_connection_failures_are_retryable(exc: BaseException) -> None:
    error = translate(exc, "ListRooms", "ws://lk:7880")
    assert error.retryable
    assert "ws://lk:7880" in str(error)


def test_anything_else_is_not_retried() -> None:
    error = translate(ValueError("bad"), "ListRooms", "ws://lk")
    assert not error.retryable
    assert str(error) == "ListRooms: ValueError: bad"


def test_join_token_carries_the_agents_and_room_metadata() -> None:
    agents = [AgentDispatch("qualifier", '{"flow":"inbound"}'), AgentDispatch("outbound-caller")]
    jwt = join_token(
        KEY, SECRET, room="r1", identity="alice", agents=agents, room_metadata='{"a":1}'
    )
    claims = api.TokenVerifier(KEY, SECRET).verify(jwt)
    assert claims.identity == "alice"
    assert claims.video is not None and claims.video.room == "r1" and claims.video.room_join
    assert claims.room_config is not None
    assert [(a.agent_name, a.metadata) for a in claims.room_config.agents] == [
        ("qualifier", '{"flow":"inbound"}'),
        ("outbound-caller", ""),
    ]
    assert claims.room_config.metadata == '{"a":1}'


def test_join_token_without_agents_has_no_room_configuration() -> None:
    claims = api.TokenVerifier(KEY, SECRET).verify(
        join_token(KEY, SECRET, room="r1", identity="bob", agents=[])
    )
    assert not claims.room_config or not claims.room_config.agents


def test_a_listed_room_reads_back_as_the_room_of_a_webhook() -> None:
    room = RoomState("r1", "RM_1", '{"flow":"qualify"}', 2, 1_700_000_000)
    event = RoomEvent.from_webhook_dict({"event": "room_started", "room": room.to_webhook_room()})
    assert event.room is not None
    assert (event.room.name, event.room.sid) == ("r1", "RM_1")
    assert event.room.metadata == '{"flow":"qualify"}'
