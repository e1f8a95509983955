"""The webhook intake, free of HTTP: verify, parse, dedupe, decide, record, answer.

Nothing here calls LiveKit: the answer goes back in milliseconds and the dispatcher does the
slow work from the queue. livekit-server retries on 5xx and connection errors with the same
event ``id``, so every path that can be retried is idempotent on that id. A recorded event's
spans go to its call's trace: an agent joined, a SIP leg hung up, the agents gone (read from
the store's timeline, so any replica decides alike), the room closed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from google.protobuf.json_format import ParseError
from livekit import api

from switchboard.rules import EVENT_TYPES, RoomEvent, RulesHolder
from switchboard.service.caller_queue import CallerQueue
from switchboard.service.decide import decide
from switchboard.service.group_commit import GroupCommit
from switchboard.store import NewFact, NewWebhook, Store
from switchboard.telemetry import OnEnd, call_context, record_call, record_step, step_span
from switchboard.telemetry.spans import Attributes
from switchboard.tracing.gone import LEAVE_EVENTS, gone_by_event
from switchboard.tracing.steps import Step
from switchboard.vocabulary import LiveKitAttribute, ParticipantKind

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
AGENT: Final = ParticipantKind.AGENT.webhook_name
SIP: Final = ParticipantKind.SIP.webhook_name
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
PROMPT_DELIVERY_NS: Final = 5_000_000_000
"""A webhook received this soon after its ``createdAt`` second began was delivered promptly."""


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
        on_step: OnEnd | None = None,
        callers: CallerQueue | None = None,
    ) -> None:
        self._store = store
        self._writer = GroupCommit(store)
        self._callers = callers
        self._rules = rules
        self._receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
        self._on_enqueued = on_enqueued
        self._on_step = on_step

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
        received = time.time_ns()
        kind = event.event
        if kind not in EVENT_TYPES:
            logger.info(
                "webhook skipped: unknown event type", extra={"event": kind, "id": event.id}
            )
            return IntakeResult(200, "skipped", kind, {"reason": "unknown event type"})
        room = event.room.name if event.room else ""
        if kind not in RECORDED_EVENTS or not room:
            return IntakeResult(
                200, "ignored", kind, {"reason": "not a room event Switchboard uses"}
            )
        if not event.id:
            return _reject(400, "the event has no id", kind)
        sid = event.room.sid if event.room else ""
        call = call_context(sid or f"name:{room}")
        span_attributes = {"livekit.event": kind, "livekit.event_id": event.id, "room": room}
        with step_span(Step.WEBHOOK, call, span_attributes, self._on_step):
            decision, record = None, None
            if event.is_dispatch_event:
                with step_span(Step.DECISION, on_end=self._on_step) as decided:
                    decision, record = decide(self._rules, event)
                    if decision is not None:
                        decided.set_attribute("switchboard.rule", decision.rule_id or "")
            fact = _fact_of(event) if kind in FACT_EVENTS else None
            webhook = NewWebhook(event.id, kind, room, sid, text, decision=record, fact=fact)
            recorded = await self._writer.record(webhook)
        if not recorded:
            logger.info("webhook duplicate", extra={"id": event.id, "event": kind, "room": room})
            if self._callers is not None:
                # A retry after a failed admission or release finishes it (both idempotent).
                retried = 0
                if decision is not None and decision.admission is not None:
                    retried += (await self._callers.admit(event, decision))[1]
                if kind in FACT_EVENTS:
                    retried += await self._callers.release(event)
                if retried:
                    await self._on_enqueued()
            return IntakeResult(200, "duplicate", kind, {"id": event.id, "room": room})
        self._trace_event(event, received)
        await self._trace_agents_gone(event)
        detail: dict[str, Any] = {"id": event.id, "room": room}
        enqueued = 0
        if decision is not None and decision.admission is not None and self._callers is not None:
            decision, enqueued = await self._callers.admit(event, decision)
            detail |= {"kind": str(decision.kind)}
            if decision.admitted is not None and decision.admitted.position:
                detail |= {"position": decision.admitted.position}
        elif decision is not None:
            enqueued = len(decision.dispatches)
        if self._callers is not None and kind in FACT_EVENTS:
            enqueued += await self._callers.release(event)
        if decision is not None:
            detail |= {"rule": decision.rule_id, "dispatch": decision.agent_names}
            logger.info(
                "webhook",
                extra={
                    "id": event.id,
                    "event": kind,
                    "room": room,
                    "rule": decision.rule_id,
                    "dispatch": list(decision.agent_names),
                },
            )
        if enqueued:
            await self._on_enqueued()
        return IntakeResult(200, "recorded", kind, detail, enqueued)

    def _trace_event(self, event: RoomEvent, received: int) -> None:
        """The steps a recorded event ends: an agent joined, a SIP leg hung up, the room closed."""
        room, participant, kind = event.room, event.participant, event.event
        if room is None:
            return
        call = call_context(room.sid or f"name:{room.name}")
        at = _within_second(event.created_at, received)
        if participant is not None and participant.joined_at:
            attributes = {"participant.identity": participant.identity, "room": room.name}
            joined = _ns(participant.joined_at)
            if kind == "participant_joined":
                joined = _within_second(participant.joined_at, received)
            if kind == "participant_joined" and participant.kind == AGENT and room.creation_time:
                name = participant.attributes.get(LiveKitAttribute.AGENT_NAME, "")
                agent = attributes | {"switchboard.agent": name}
                record_step(
                    Step.AGENT_JOINED, _ns(room.creation_time), joined, call, agent, self._on_step
                )
            elif kind != "participant_joined" and participant.kind == SIP:
                sip = {k: v for k, v in participant.attributes.items() if k in SIP_ATTRIBUTES}
                record_step(
                    Step.SIP_LEG,
                    joined,
                    at,
                    call,
                    attributes | sip | {"sip.ended": kind},
                    self._on_step,
                )
        elif kind == "room_finished":
            record_step(Step.ROOM_CLOSED, at, at, call, {"room": room.name}, self._on_step)
            if room.sid and room.creation_time:
                record_call(room.sid, _ns(room.creation_time), at, {"room": room.name})

    async def _trace_agents_gone(self, event: RoomEvent) -> None:
        """The ``agents.gone`` span when this recorded leave was the room's last agent's, with
        people still in the room (read from the store's timeline: any replica decides alike)."""
        room, participant = event.room, event.participant
        if room is None or participant is None or participant.kind != AGENT:
            return
        if event.event not in LEAVE_EVENTS:
            return
        try:
            timeline = await self._store.timeline(room.name, room_sid=room.sid or None)
        except Exception:
            # The webhook is recorded and answered either way; the span is worth no 5xx.
            logger.warning("agents.gone not traced: the timeline could not be read", exc_info=True)
            return
        gone = gone_by_event(room.name, timeline, event.id)
        if gone is None:
            return
        attributes: Attributes = {
            "room": room.name,
            "switchboard.agents": sorted(
                p.attributes.get(LiveKitAttribute.AGENT_NAME) or p.identity for p in gone.agents
            ),
            "switchboard.stayed": len(gone.stayed),
        }
        record_step(
            Step.AGENTS_GONE,
            _datetime_ns(gone.first_left),
            _datetime_ns(gone.last_left),
            call_context(room.sid or f"name:{room.name}"),
            attributes,
            self._on_step,
        )


SIP_ATTRIBUTES: Final = frozenset({"sip.callID", "sip.callStatus", "sip.trunkID", "sip.ruleID"})
"""The SIP participant attributes a leg's span keeps (never the phone numbers)."""


def _ns(seconds: int) -> int:
    """Webhook times are epoch seconds; spans want epoch nanoseconds."""
    return seconds * 1_000_000_000


def _within_second(seconds: int, received_ns: int) -> int:
    """A webhook's whole-second time made precise by its arrival: a prompt delivery puts it at
    the arrival, kept inside the stamped second (an upper bound: the span never ends before the
    event); a late one (a retry, a replay) keeps the second. No time at all (0) is the arrival."""
    if not seconds:
        return received_ns
    start = _ns(seconds)
    if not start <= received_ns < start + PROMPT_DELIVERY_NS:
        return start
    return min(received_ns, start + 999_999_999)


def _datetime_ns(at: datetime) -> int:
    """An aware datetime as epoch nanoseconds, exact to its microsecond."""
    return (at - EPOCH) // timedelta(microseconds=1) * 1_000


def _fact_of(event: RoomEvent) -> NewFact:
    """What the room's timeline keeps of a participant or room event."""
    detail: dict[str, Any] = {"event_id": event.id}
    if event.participant is not None:
        detail |= {"identity": event.participant.identity, "kind": event.participant.kind}
    return NewFact(event.event, detail)


def _reject(status: int, reason: str, kind: str = "") -> IntakeResult:
    logger.info("webhook rejected", extra={"status": status, "reason": reason})
    return IntakeResult(status, "rejected", kind, {"reason": reason})
