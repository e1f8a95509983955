"""Webhooks exactly as the real livekit-server sends them (fact f)."""

from __future__ import annotations

import asyncio
import re

import pytest
from livekit import api

from switchboard.stack.stack import Stack
from tests.support.participants import join
from tests.support.webhook_sink import WebhookSink


async def test_f_room_start_sends_room_started_signed_camelcase(
    livekit_stack: Stack, webhook_sink: WebhookSink, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    human = await join(livekit_stack, room_name, "human-f", agents=["qualifier"])
    try:
        started = await asyncio.to_thread(webhook_sink.wait_for, room_name, "room_started")
        joined = await asyncio.to_thread(webhook_sink.wait_for, room_name, "participant_joined")
    finally:
        await human.disconnect()

    events = {hook.json()["event"] for hook in webhook_sink.for_room(room_name)}
    assert "room_created" not in events

    body = started.json()
    assert set(body) >= {"event", "room", "id", "createdAt"}
    assert re.fullmatch(r"EV_\w+", body["id"])
    assert isinstance(body["createdAt"], str) and body["createdAt"].isdigit()  # int64 → string
    assert body["room"]["name"] == room_name and body["room"]["sid"].startswith("RM_")
    assert "emptyTimeout" in body["room"] and "empty_timeout" not in body["room"]

    participant = joined.json()["participant"]
    assert participant["identity"] == "human-f"
    assert "kind" not in participant  # STANDARD is the zero value: omitted
    assert started.headers["Content-Type"] == "application/webhook+json"
    assert not started.headers["Authorization"].startswith("Bearer ")

    receiver = api.WebhookReceiver(
        api.TokenVerifier(livekit_stack.config.api_key, livekit_stack.config.api_secret)
    )
    event = receiver.receive(started.body.decode(), started.headers["Authorization"])
    assert event.event == "room_started" and event.room.name == room_name

    tampered = started.body.decode().replace(room_name, room_name + "x")
    with pytest.raises(Exception, match="hash mismatch"):
        receiver.receive(tampered, started.headers["Authorization"])
