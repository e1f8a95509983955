"""The ASGI app in-process (httpx's ASGI transport): the routes that answer without LiveKit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from livekit import api

from switchboard.service import create_app
from switchboard.settings import load_settings

KEY, SECRET, TOKEN_SECRET = "key", "secret-" + "x" * 32, "token-secret"
RULES = """\
version: 1
rules:
  - id: qualify
    when: {event: room_started, room.metadata.flow: qualify}
    then: {dispatch: [qualifier]}
default: nobody
"""
pytestmark = pytest.mark.asyncio(loop_scope="function")


async def client_for(tmp_path: Path, **overrides: object) -> httpx.AsyncClient:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings = load_settings(
        **{
            # Nothing listens on port 9: these routes must answer without calling LiveKit.
            "livekit_url": "ws://127.0.0.1:9",
            "livekit_api_key": KEY,
            "livekit_api_secret": SECRET,
            "rules": rules,
            "store_url": f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}",
            "token_secret": TOKEN_SECRET,
            "mode": "function",
            **overrides,
        }
    )
    app = create_app(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb")


@pytest_asyncio.fixture(loop_scope="function")
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(tmp_path) as client:
        yield client
        await client._transport.app.state.runtime.stop()  # type: ignore[attr-defined]


async def test_token_needs_the_bearer_secret(http: httpx.AsyncClient) -> None:
    request = {"room": "r1", "identity": "alice"}
    missing = await http.post("/token", json=request)
    wrong_scheme = await http.post("/token", json=request, headers={"Authorization": TOKEN_SECRET})
    wrong = await http.post("/token", json=request, headers={"Authorization": "Bearer nope"})
    assert [r.status_code for r in (missing, wrong_scheme, wrong)] == [401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "SWITCHBOARD_TOKEN_SECRET" in missing.json()["error"]


async def test_token_puts_the_rule_agents_in_the_room_configuration(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.post(
        "/token",
        json={"room": "r1", "identity": "alice", "room_metadata": '{"flow": "qualify"}'},
        headers={"Authorization": f"bearer {TOKEN_SECRET}"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["url"] == "ws://127.0.0.1:9"
    assert body["agents"] == [{"agent": "qualifier", "metadata": ""}]
    config = api.TokenVerifier(KEY, SECRET).verify(body["token"]).room_config
    assert config is not None
    assert [a.agent_name for a in config.agents] == ["qualifier"]


async def test_an_invalid_token_request_names_the_field(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        "/token", json={"room": ""}, headers={"Authorization": f"Bearer {TOKEN_SECRET}"}
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error.startswith("invalid token request: room: ")
    assert "identity: Field required" in error


async def test_token_route_is_disabled_without_a_secret(tmp_path: Path) -> None:
    async with await client_for(tmp_path, token_secret="") as http:
        answer = await http.post("/token", json={"room": "r", "identity": "i"})
    assert answer.status_code == 503
    assert "SWITCHBOARD_TOKEN_SECRET is not set" in answer.json()["error"]


async def test_webhook_bodies_over_one_mib_are_413(http: httpx.AsyncClient) -> None:
    declared = await http.post("/livekit/webhook", content=b"x" * (1024 * 1024 + 1))
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(2):
            yield b"x" * (600 * 1024)

    streamed = await http.post("/livekit/webhook", content=chunks())
    assert streamed.status_code == 413
    assert streamed.json()["reason"] == "body larger than 1 MiB"


async def test_an_unsigned_webhook_is_401_and_counted(http: httpx.AsyncClient) -> None:
    answer = await http.post("/livekit/webhook", content=b"{}")
    assert answer.status_code == 401
    metrics = (await http.get("/metrics")).text
    assert 'switchboard_webhooks_total{event="-",outcome="rejected"} 1.0' in metrics


async def test_health_and_decisions_api(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).text == "ok"
    auth = {"Authorization": f"Bearer {TOKEN_SECRET}"}
    assert (await http.get("/api/decisions", params={"room": "r1"})).status_code == 401
    assert (await http.get("/api/decisions", headers=auth)).status_code == 400
    empty = await http.get("/api/decisions", params={"room": "r1"}, headers=auth)
    assert empty.json() == {"room": "r1", "decisions": [], "timeline": []}


async def test_readiness_names_livekit_when_it_does_not_answer(http: httpx.AsyncClient) -> None:
    answer = await http.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["store"] == "ok"
    assert "cannot reach LiveKit at ws://127.0.0.1:9" in body["livekit"]
