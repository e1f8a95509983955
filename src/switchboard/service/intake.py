"""The webhook intake, free of HTTP: verify, parse, dedupe, decide, record, answer.

Nothing here calls LiveKit: the answer goes back in milliseconds and the dispatcher does the
slow work from the queue. livekit-server retries on 5xx and connection errors with the same
event ``id``, so every path that can be retried is idempotent on that id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import jwt
from google.protobuf.json_format import ParseError
from livekit import api

from switchboard.rules import EVENT_TYPES, RoomEvent, RulesHolder
from switchboard.service.decide import decide
from switchboard.service.group_commit import GroupCommit
from switchboard.store import NewFact, NewWebhook, Store

logger = logging.getLogger("switchboard.webhook")

MAX_BODY_BYTES: Final = 1024 * 1024
RECORDED_EVENTS: Final = frozenset(
    {
        "room_started",
        "room_finished",
        "participant_joined",
        "participant_left",
        "participant_connection_aborted",
    }
)
FACT_EVENTS: Final = RECORDED_EVENTS - {"room_started"}


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The HTTP answer to one webhook request."""

    status: int
    outcome: str
    event_type: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    enqueued: int = 0

    def to_json(self) -> dict[str, Any]:
        """The response body."""
        return {"outcome": self.outcome, "event": self.event_type, **self.detail}


class WebhookIntake:
    """Handles one signed webhook body; ``on_enqueued`` runs after jobs were queued."""

    def __init__(
        self,
        store: Store,
        rules: RulesHolder,
        api_key: str,
        api_secret: str,
        on_enqueued: Callable[[], Awaitable[None]],
    ) -> None:
        self._writer = GroupCommit(store)
        self._rules = rules
        self._receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
        self._on_enqueued = on_enqueued

    async def handle(self, body: bytes, authorization: str | None) -> IntakeResult:
        """Verify and process one request body."""
        if not authorization:
            return _reject(401, "missing Authorization header (a JWT signed with the API key)")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _reject(400, "the body is not UTF-8")
        try:
            self._receiver.receive(text, token)
        except jwt.ExpiredSignatureError:
            return _reject(401, "the signature has expired")
        except jwt.PyJWTError as exc:
            return _reject(401, f"bad signature: {exc}")
        except ParseError as exc:
            return _reject(400, f"not a webhook event: {exc}")
        except ValueError as exc:
            return _reject(400, f"malformed body: {exc}")
        except Exception as exc:
            # livekit-api raises a bare Exception for "hash mismatch" and a missing sha256.
            return _reject(401, f"signature does not match the body: {exc}")
        try:
            payload = json.loads(text)
        except ValueError as exc:
            return _reject(400, f"malformed JSON: {exc}")
        if not isinstance(payload, dict):
            return _reject(400, "not a webhook event: the body is not a JSON object")
        event = RoomEvent.from_webhook_dict(payload)
        return await self._process(event, text)

    async def _process(self, event: RoomEvent, text: str) -> IntakeResult:
        kind = event.event
        if kind not in EVENT_TYPES:
            logger.info("webhook skipped: unknown event type %r id=%s", kind, event.id)
            return IntakeResult(200, "skipped", kind, {"reason": "unknown event type"})
        room = event.room.name if event.room else ""
        if kind not in RECORDED_EVENTS or not room:
            return IntakeResult(
                200, "ignored", kind, {"reason": "not a room event Switchboard uses"}
            )
        if not event.id:
            return _reject(400, "the event has no id", kind)
        sid = event.room.sid if event.room else ""
        decision, record = decide(self._rules, event) if event.is_dispatch_event else (None, None)
        fact = _fact_of(event) if kind in FACT_EVENTS else None
        webhook = NewWebhook(event.id, kind, room, sid, text, decision=record, fact=fact)
        if not await self._writer.record(webhook):
            logger.info("webhook duplicate id=%s event=%s room=%s", event.id, kind, room)
            return IntakeResult(200, "duplicate", kind, {"id": event.id, "room": room})
        detail: dict[str, Any] = {"id": event.id, "room": room}
        enqueued = 0
        if decision is not None:
            enqueued = len(decision.dispatches)
            detail |= {"rule": decision.rule_id, "dispatch": decision.agent_names}
            logger.info(
                "webhook id=%s event=%s room=%s rule=%s dispatch=%s",
                event.id,
                kind,
                room,
                decision.rule_id,
                decision.agent_names,
            )
        if enqueued:
            await self._on_enqueued()
        return IntakeResult(200, "recorded", kind, detail, enqueued)


def _fact_of(event: RoomEvent) -> NewFact:
    """What the room's timeline keeps of a participant or room event."""
    detail: dict[str, Any] = {"event_id": event.id}
    if event.participant is not None:
        detail |= {"identity": event.participant.identity, "kind": event.participant.kind}
    return NewFact(event.event, detail)


def _reject(status: int, reason: str, kind: str = "") -> IntakeResult:
    logger.info("webhook rejected status=%s reason=%s", status, reason)
    return IntakeResult(status, "rejected", kind, {"reason": reason})
