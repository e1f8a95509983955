"""``GET /console/api/calls/{room}/trace``, driven in-process through the service app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from switchboard.service import create_app
from switchboard.settings import load_settings
from switchboard.store import NewWebhook

SECRET = "waterfall-unit-secret-" + "z" * 16
pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture(loop_scope="function")
async def app_and_http(tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules: []\ndefault: nobody\n")
    settings = load_settings(
        livekit_url="ws://127.0.0.1:9",  # nothing listens: the trace route reads only the store
        livekit_api_key="key",
        livekit_api_secret="secret-" + "x" * 32,
        rules=rules,
        store_url=f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}",
        token_secret=SECRET,
        mode="function",
    )
    app = create_app(settings)
    await app.state.runtime.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        yield app, client
    await app.state.runtime.stop()


def joined(room: str, identity: str, kind: str) -> NewWebhook:
    body = {
        "event": "participant_joined",
        "id": f"EV_{identity}",
        "room": {"name": room},
        "participant": {"identity": identity, "kind": kind, "name": identity},
    }
    return NewWebhook(f"EV_{identity}", "participant_joined", room, "RM_1", json.dumps(body))


async def test_trace_needs_a_session_or_the_secret(
    app_and_http: tuple[Any, httpx.AsyncClient],
) -> None:
    _, http = app_and_http
    assert (await http.get("/console/api/calls/call-1/trace")).status_code == 401


async def test_unknown_room_is_404_and_a_recorded_call_has_its_lanes(
    app_and_http: tuple[Any, httpx.AsyncClient],
) -> None:
    app, http = app_and_http
    auth = {"Authorization": f"Bearer {SECRET}"}
    missing = await http.get("/console/api/calls/call-1/trace", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"] == "nothing recorded for room 'call-1'"
    store = app.state.runtime.store
    await store.record_webhooks([joined("call-1", "sip_+1555", "SIP")])
    await store.record_webhooks([joined("call-1", "AJ_x", "AGENT")])
    found = await http.get("/console/api/calls/call-1/trace", headers=auth)
    assert found.status_code == 200
    trace = found.json()
    assert trace["live"] is True and trace["rooms"] == ["call-1"]
    assert [lane["role"] for lane in trace["lanes"]] == ["caller", "agent"]
    assert trace["lanes"][0]["bars"][0]["step"] == "sip.leg"
    assert trace["lanes"][0]["bars"][0]["running"] is True
    (mark,) = trace["marks"]
    assert "unnamed agent" in mark["problem"]
