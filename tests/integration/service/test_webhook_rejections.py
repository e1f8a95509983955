"""Bad requests get the right 4xx (never a 5xx), on the ASGI service and the Azure Function."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from switchboard.stack.stack import Stack
from tests.integration.service.front import WebhookFront
from tests.integration.service.harness import RunningService, sign

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVENT = json.dumps(
    {"event": "room_started", "id": "EV_reject", "room": {"sid": "RM_x", "name": "nowhere"}}
).encode()


def _cases(stack: Stack) -> list[tuple[str, bytes, dict[str, str], int, str]]:
    good = sign(stack, EVENT)
    other = Stack(
        config=stack.config.model_copy(
            update={"api_secret": "not-the-secret-of-this-stack-0123456789"}
        ),
        state_dir=stack.state_dir,
    )
    unknown = json.dumps({"event": "agent_job_started", "id": "EV_unknown"}).encode()
    return [
        ("missing signature", EVENT, {}, 401, "rejected"),
        ("bad signature", EVENT, {"Authorization": sign(other, EVENT)}, 401, "rejected"),
        (
            "tampered body",
            EVENT.replace(b"nowhere", b"elsewhere"),
            {"Authorization": good},
            401,
            "rejected",
        ),
        (
            "expired",
            EVENT,
            {"Authorization": sign(stack, EVENT, timedelta(minutes=-10))},
            401,
            "rejected",
        ),
        ("oversized", b"{" + b" " * (1024 * 1024) + b"}", {"Authorization": good}, 413, "rejected"),
        ("malformed", b"{not json", {"Authorization": sign(stack, b"{not json")}, 400, "rejected"),
        ("not an event", b"[1,2]", {"Authorization": sign(stack, b"[1,2]")}, 400, "rejected"),
        (
            "wrong types",
            b'{"room": 5}',
            {"Authorization": sign(stack, b'{"room": 5}')},
            400,
            "rejected",
        ),
        ("unknown event type", unknown, {"Authorization": sign(stack, unknown)}, 200, "skipped"),
    ]


async def test_bad_webhooks_get_4xx_or_a_logged_skip_on_both_paths(
    service_stack: Stack, service: RunningService, front: WebhookFront
) -> None:
    async with httpx.AsyncClient(base_url=service.url) as http:
        for name, body, headers, status, outcome in _cases(service_stack):
            asgi = await http.post("/livekit/webhook", content=body, headers=headers)
            azure = await front.azure.request("POST", "/livekit/webhook", body, headers)
            assert (name, asgi.status_code) == (name, status), asgi.text
            assert asgi.json()["outcome"] == outcome, name
            assert (name, azure.status_code) == (name, status)
            assert json.loads(azure.get_body()) == asgi.json(), name
        metrics = (await http.get("/metrics")).text
    assert 'switchboard_webhooks_total{event="-",outcome="rejected"}' in metrics
    assert 'outcome="skipped"' in metrics
