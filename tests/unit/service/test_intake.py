"""The webhook intake over a real SQLite store: how each request is classified and answered."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from livekit import api

from switchboard.rules import RulesHolder
from switchboard.service.intake import WebhookIntake
from switchboard.store import Store

KEY, SECRET = "key", "secret-" + "x" * 32
RULES = """\
version: 1
rules:
  - id: qualify
    when: {event: room_started, room.metadata.flow: qualify}
    then: {dispatch: [qualifier]}
default: nobody
"""


def sign(body: bytes, secret: str = SECRET, ttl: timedelta = timedelta(minutes=5)) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token: str = api.AccessToken(KEY, secret).with_ttl(ttl).with_sha256(digest).to_jwt()
    return token


def body(event: str = "room_started", flow: str = "qualify", **extra: object) -> bytes:
    payload = {
        "event": event,
        "id": "EV_1",
        "room": {"sid": "RM_1", "name": "room-1", "metadata": json.dumps({"flow": flow})},
        "createdAt": "1700000000",
    } | extra
    return json.dumps(payload).encode()


class Intake:
    def __init__(self, store: Store, rules: Path) -> None:
        self.store = store
        self.enqueued = 0
        self.intake = WebhookIntake(store, RulesHolder(rules), KEY, SECRET, self._on_enqueued)

    async def _on_enqueued(self) -> None:
        self.enqueued += 1


@pytest_asyncio.fixture(loop_scope="function")
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}") as store:
        yield Intake(store, rules)


pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_a_signed_room_started_is_recorded_decided_and_enqueued(intake: Intake) -> None:
    data = body()
    result = await intake.intake.handle(data, sign(data))
    assert (result.status, result.outcome, result.enqueued) == (200, "recorded", 1)
    assert result.to_json() == {
        "outcome": "recorded",
        "event": "room_started",
        "id": "EV_1",
        "room": "room-1",
        "rule": "qualify",
        "dispatch": ["qualifier"],
    }
    assert intake.enqueued == 1
    jobs = (await intake.store.intents_for_rooms(["room-1"]))["room-1"]
    assert [(j.agent_name, j.room_sid) for j in jobs] == [("qualifier", "RM_1")]


async def test_the_same_event_id_again_is_a_duplicate_and_enqueues_nothing(
    intake: Intake,
) -> None:
    data = body()
    await intake.intake.handle(data, sign(data))
    again = await intake.intake.handle(data, "Bearer " + sign(data))
    assert (again.status, again.outcome) == (200, "duplicate")
    assert intake.enqueued == 1


async def test_a_second_event_for_the_same_room_session_queues_no_second_job(
    intake: Intake,
) -> None:
    first, second = body(), body(id="EV_2")
    await intake.intake.handle(first, sign(first))
    result = await intake.intake.handle(second, sign(second))
    assert result.outcome == "recorded"
    jobs = (await intake.store.intents_for_rooms(["room-1"]))["room-1"]
    assert len(jobs) == 1


async def test_no_rule_matched_records_without_enqueueing(intake: Intake) -> None:
    data = body(flow="other")
    result = await intake.intake.handle(data, sign(data))
    assert (result.outcome, result.enqueued, intake.enqueued) == ("recorded", 0, 0)


# Signatures are made when the test runs, not at collection: they are valid for 5 minutes only.
@pytest.mark.parametrize(
    ("authorization", "status", "reason"),
    [
        (lambda: None, 401, "missing Authorization header"),
        (lambda: "not-a-jwt", 401, "bad signature"),
        (lambda: sign(b"other body"), 401, "signature does not match the body: hash mismatch"),
        (lambda: sign(body(), secret="wrong-" + "y" * 32), 401, "bad signature"),
        (lambda: sign(body(), ttl=timedelta(seconds=-60)), 401, "the signature has expired"),
    ],
    ids=["missing", "not-a-jwt", "other-body", "wrong-secret", "expired"],
)
async def test_bad_signatures_are_401_with_the_reason(
    intake: Intake, authorization: Callable[[], str | None], status: int, reason: str
) -> None:
    result = await intake.intake.handle(body(), authorization())
    assert (result.status, result.outcome) == (status, "rejected")
    assert result.detail["reason"].startswith(reason)
    assert await intake.store.get_event("EV_1") is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "the body is not UTF-8"),
        (b"{not json", "not a webhook event"),
        (b"[1, 2]", "not a webhook event"),
        (body(id=""), "the event has no id"),
    ],
)
async def test_malformed_bodies_are_400(intake: Intake, data: bytes, reason: str) -> None:
    result = await intake.intake.handle(data, sign(data))
    assert (result.status, result.outcome) == (400, "rejected")
    assert result.detail["reason"].startswith(reason)


async def test_unknown_and_unused_events_are_answered_200_without_recording(
    intake: Intake,
) -> None:
    unknown = body(event="room_exploded")
    track = body(event="track_published")
    skipped = await intake.intake.handle(unknown, sign(unknown))
    ignored = await intake.intake.handle(track, sign(track))
    assert (skipped.status, skipped.outcome) == (200, "skipped")
    assert (ignored.status, ignored.outcome) == (200, "ignored")
    assert await intake.store.get_event("EV_1") is None


async def test_participant_events_become_room_facts(intake: Intake) -> None:
    data = body(
        event="participant_left",
        participant={"identity": "alice", "kind": "SIP", "sid": "PA_1"},
    )
    result = await intake.intake.handle(data, sign(data))
    assert result.outcome == "recorded"
    timeline = await intake.store.timeline("room-1")
    facts = [entry.detail for entry in timeline if entry.kind.value == "fact"]
    assert [(f["kind"], f["detail"]["identity"]) for f in facts] == [("participant_left", "alice")]
