"""The Azure Function (driven through its registered handlers with ``azure.functions``
requests) gives the same results as the ASGI service, against the real stack."""

from __future__ import annotations

import json

import httpx
import pytest
from livekit import api

from tests.integration.service.checks import dispatch_names, settled_agents
from tests.integration.service.front import AZURE_PREFIX, WebhookFront
from tests.integration.service.harness import TOKEN_SECRET, RunningService
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.asyncio(loop_scope="session")
AUTH = {"Authorization": f"Bearer {TOKEN_SECRET}"}


async def _outcome(lkapi: api.LiveKitAPI, room: str, metadata: str, expected: list[str]) -> tuple:
    await lkapi.room.create_room(api.CreateRoomRequest(name=room, metadata=metadata))
    try:
        agents = await settled_agents(lkapi, room, expected)
        return agents, await dispatch_names(lkapi, room)
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [('{"flow": "outbound"}', ["outbound-caller"]), ('{"flow": "nobody"}', [])],
)
async def test_azure_function_and_asgi_service_dispatch_the_same(
    named_workers: WorkerPool,
    front: WebhookFront,
    service: RunningService,
    svc_api: api.LiveKitAPI,
    room_name: str,
    metadata: str,
    expected: list[str],
) -> None:
    asgi_room, azure_room = f"asgi-{room_name}", f"{AZURE_PREFIX}{room_name}"
    via_asgi = await _outcome(svc_api, asgi_room, metadata, expected)
    via_azure = await _outcome(svc_api, azure_room, metadata, expected)
    assert via_asgi == via_azure == (expected, ["", *expected])
    assert [j["agent_name"] for j in named_workers.jobs(azure_room)] == expected
    assert any(f["to"] == "azure" and f["room"] == azure_room for f in front.forwarded)
    async with httpx.AsyncClient(base_url=service.url) as http:
        asgi = (await http.get("/api/decisions", params={"room": asgi_room}, headers=AUTH)).json()
    azure_reply = await front.azure.request(
        "GET", f"/api/decisions?room={azure_room}", headers=AUTH
    )
    assert azure_reply.status_code == 200
    azure = json.loads(azure_reply.get_body())
    assert [d["rule"] for d in azure["decisions"]] == [d["rule"] for d in asgi["decisions"]]
    assert [d["dispatch"] for d in azure["decisions"]] == [
        [{**x, "metadata": x["metadata"].replace(asgi_room, azure_room)} for x in d["dispatch"]]
        for d in asgi["decisions"]
    ]


async def test_azure_timer_repairs_a_room_whose_webhook_was_lost(
    named_workers: WorkerPool,
    front: WebhookFront,
    svc_api: api.LiveKitAPI,
    room_name: str,
) -> None:
    room = f"{AZURE_PREFIX}lost-{room_name}"
    front.drop_rooms.add(room)
    await svc_api.room.create_room(
        api.CreateRoomRequest(name=room, metadata='{"flow": "outbound"}')
    )
    try:
        assert await settled_agents(svc_api, room, []) == []
        await front.azure.tick()
        expected = ["outbound-caller"]
        assert await settled_agents(svc_api, room, expected) == expected
        assert await dispatch_names(svc_api, room) == ["", *expected]
        facts = await front.azure.runtime.store.timeline(room)
        assert any(
            entry.detail.get("kind") == "reconciled" or "reconciled" in entry.summary
            for entry in facts
        )
    finally:
        await svc_api.room.delete_room(api.DeleteRoomRequest(room=room))
