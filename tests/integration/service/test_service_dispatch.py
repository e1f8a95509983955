"""Rules-driven dispatch through the webhook service against the real stack and workers."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from livekit import api, rtc

from switchboard.livekit import join_token
from switchboard.stack.stack import Stack
from tests.integration.service.checks import dispatch_names, settled_agents
from tests.integration.service.front import WebhookFront
from tests.integration.service.harness import (
    TOKEN_SECRET,
    RunningService,
    room_started_body,
    webhook_headers,
)
from tests.support.participants import eventually
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.asyncio(loop_scope="session")
AUTH = {"Authorization": f"Bearer {TOKEN_SECRET}"}


async def _join(stack: Stack, room: str, room_metadata: str) -> rtc.Room:
    """A human joining with a token that has NO agents, only the room's metadata."""
    jwt = join_token(
        stack.config.api_key,
        stack.config.api_secret,
        room=room,
        identity="human",
        agents=[],
        room_metadata=room_metadata,
    )
    client = rtc.Room()
    await client.connect(stack.config.url, jwt)
    return client


@pytest.mark.parametrize(
    ("flow", "expected"),
    [("outbound", ["outbound-caller"]), ("qualify", ["qualifier"]), ("other", [])],
)
async def test_token_join_without_agents_gets_the_agents_of_the_matching_rule(
    service_stack: Stack,
    named_workers: WorkerPool,
    front: WebhookFront,
    service: RunningService,
    svc_api: api.LiveKitAPI,
    room_name: str,
    flow: str,
    expected: list[str],
) -> None:
    human = await _join(service_stack, room_name, json.dumps({"flow": flow}))
    try:
        assert await settled_agents(svc_api, room_name, expected) == expected
        # The room was created with no agent list, so the server also holds its automatic ""
        # dispatch; no unnamed worker is registered, so nobody serves it.
        assert await dispatch_names(svc_api, room_name) == ["", *expected]
        assert [job["agent_name"] for job in named_workers.jobs(room_name)] == expected
    finally:
        await human.disconnect()
    async with httpx.AsyncClient(base_url=service.url) as http:
        history = (
            await http.get("/api/decisions", params={"room": room_name}, headers=AUTH)
        ).json()
    rules = {d["rule"] for d in history["decisions"]}
    assert rules >= {{"outbound": "outbound", "qualify": "qualify"}.get(flow, "default")}
    kinds = {entry["kind"] for entry in history["timeline"]}
    assert {"event", "decision"} <= kinds
    if expected:
        results = [e for e in history["timeline"] if e["kind"] == "dispatch_result"]
        assert results, history["timeline"]


async def test_token_route_puts_the_rule_agents_in_the_token_and_nothing_doubles(
    service_stack: Stack,
    named_workers: WorkerPool,
    front: WebhookFront,
    service: RunningService,
    svc_api: api.LiveKitAPI,
    room_name: str,
) -> None:
    request = {"room": room_name, "identity": "caller", "room_metadata": '{"flow": "qualify"}'}
    async with httpx.AsyncClient(base_url=service.url) as http:
        denied = await http.post("/token", json=request)
        answer = await http.post("/token", json=request, headers=AUTH)
    assert denied.status_code == 401
    assert answer.status_code == 200
    body = answer.json()
    assert body["agents"] == [{"agent": "qualifier", "metadata": ""}]
    claims = api.TokenVerifier(service_stack.config.api_key, service_stack.config.api_secret)
    config = claims.verify(body["token"]).room_config
    assert [a.agent_name for a in config.agents] == ["qualifier"]
    human = rtc.Room()
    await human.connect(body["url"], body["token"])
    try:
        assert await settled_agents(svc_api, room_name, ["qualifier"]) == ["qualifier"]
        assert await dispatch_names(svc_api, room_name) == ["qualifier"]

        async def job_finished() -> bool:
            jobs = await service.runtime.store.intents_for_rooms([room_name])
            return any(job.outcome for job in jobs[room_name])

        await eventually(job_finished, timeout=10)
        jobs = (await service.runtime.store.intents_for_rooms([room_name]))[room_name]
        assert [job.outcome for job in jobs] == ["already_dispatched"]
    finally:
        await human.disconnect()


async def test_the_same_signed_webhook_replayed_five_times_dispatches_once(
    service_stack: Stack,
    named_workers: WorkerPool,
    front: WebhookFront,
    service: RunningService,
    svc_api: api.LiveKitAPI,
    room_name: str,
) -> None:
    room = await svc_api.room.create_room(
        api.CreateRoomRequest(name=room_name, metadata='{"flow": "outbound"}')
    )
    try:
        body = room_started_body(room)
        headers = webhook_headers(service_stack, body)
        async with httpx.AsyncClient(base_url=service.url) as http:
            replies = await asyncio.gather(
                *(http.post("/livekit/webhook", content=body, headers=headers) for _ in range(5))
            )
        assert [r.status_code for r in replies] == [200] * 5
        outcomes = sorted(r.json()["outcome"] for r in replies)
        assert outcomes == ["duplicate"] * 4 + ["recorded"]
        expected = ["outbound-caller"]
        assert await settled_agents(svc_api, room_name, expected) == expected
        assert await dispatch_names(svc_api, room_name) == ["", *expected]
        assert [j["agent_name"] for j in named_workers.jobs(room_name)] == expected
    finally:
        await svc_api.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_health_readiness_and_metrics(service: RunningService, front: WebhookFront) -> None:
    async with httpx.AsyncClient(base_url=service.url) as http:
        assert (await http.get("/healthz")).text == "ok"
        ready = await http.get("/readyz")
        metrics = (await http.get("/metrics")).text
        no_secret = await http.get("/api/decisions", params={"room": "x"})
    assert ready.status_code == 200
    assert ready.json()["store"] == "ok"
    assert ready.json()["livekit"] == "ok"
    for name in (
        "switchboard_webhooks_total",
        "switchboard_webhook_ack_seconds_bucket",
        "switchboard_queue_depth",
        "switchboard_dead_letters",
        "switchboard_dispatches_total",
    ):
        assert name in metrics
    assert no_secret.status_code == 401
