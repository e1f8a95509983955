"""The intake emits ``agents.gone`` when the recorded leave of a room's last agent leaves people
in it (real SQLite store, in-memory OpenTelemetry exporter), and takes partial leaves calmly."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from switchboard import telemetry
from switchboard.rules import RulesHolder
from switchboard.service.intake import WebhookIntake
from switchboard.store import Store
from switchboard.telemetry import setup
from switchboard.tracing.steps import Step
from tests.unit.service.test_intake import KEY, RULES, SECRET, sign

pytestmark = pytest.mark.asyncio(loop_scope="function")

ROOM = {"sid": "RM_gone", "name": "call-_+15557770001_abc"}
CALLER = {"identity": "sip_+15557770001", "kind": "SIP", "joinedAt": "1700000000"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=setup._id_generator())  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.setup.use(provider)
    yield exporter
    telemetry.shutdown()


@pytest_asyncio.fixture(loop_scope="function")
async def intake(tmp_path: Path) -> AsyncIterator[WebhookIntake]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)

    async def enqueued() -> None:
        return None

    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}") as store:
        yield WebhookIntake(store, RulesHolder(rules), KEY, SECRET, enqueued)


def agent(identity: str, name: str = "") -> dict[str, Any]:
    attributes = {"lk.agent_name": name} if name else {}
    return {
        "identity": identity,
        "kind": "AGENT",
        "joinedAt": "1700000001",
        "attributes": attributes,
    }


async def post(
    intake: WebhookIntake,
    event_id: str,
    event: str,
    participant: Any,
    created_at: str = "1700000002",
) -> int:
    payload = {"event": event, "id": event_id, "room": ROOM, "createdAt": created_at}
    if participant is not None:
        payload["participant"] = participant
    data = json.dumps(payload).encode()
    result = await intake.handle(data, sign(data))
    return result.status


def gone_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == Step.AGENTS_GONE]


async def test_the_last_agent_leaving_the_caller_is_one_agents_gone_span_of_the_call(
    spans: InMemorySpanExporter, intake: WebhookIntake
) -> None:
    assert await post(intake, "EV_c", "participant_joined", CALLER) == 200
    assert await post(intake, "EV_q", "participant_joined", agent("AJ_q", "qualifier")) == 200
    assert await post(intake, "EV_o", "participant_joined", agent("AJ_o")) == 200
    assert await post(intake, "EV_o_left", "participant_left", agent("AJ_o")) == 200
    assert gone_spans(spans) == []
    assert await post(intake, "EV_q_left", "participant_left", agent("AJ_q")) == 200
    assert await post(intake, "EV_q_left", "participant_left", agent("AJ_q")) == 200  # a retry
    assert await post(intake, "EV_q_abort", "participant_connection_aborted", agent("AJ_q")) == 200
    (gone,) = gone_spans(spans)
    assert gone.context.trace_id == telemetry.call_span_context("RM_gone").trace_id
    assert gone.parent is not None
    assert gone.parent.span_id == telemetry.call_span_context("RM_gone").span_id
    assert gone.attributes is not None
    assert list(gone.attributes["switchboard.agents"]) == ["AJ_o", "qualifier"]  # type: ignore[arg-type]
    assert gone.attributes["switchboard.stayed"] == 1
    assert gone.start_time is not None and gone.end_time is not None
    assert 0 < gone.end_time - gone.start_time < 5_000_000_000  # first leave → last leave


async def test_partial_leaves_are_answered_and_trace_nothing(
    spans: InMemorySpanExporter, intake: WebhookIntake
) -> None:
    assert await post(intake, "EV_c", "participant_joined", CALLER) == 200
    assert await post(intake, "EV_q", "participant_joined", agent("AJ_q")) == 200
    partial: list[Any] = [
        None,
        {},
        {"kind": "AGENT"},
        {"identity": "AJ_q"},
        {"identity": "AJ_x", "kind": "AGENT"},
    ]
    for number, participant in enumerate(partial):
        assert await post(intake, f"EV_p{number}", "participant_left", participant) == 200
    assert gone_spans(spans) == []


async def test_a_promptly_delivered_room_close_follows_the_agents_gone_span(
    spans: InMemorySpanExporter, intake: WebhookIntake
) -> None:
    """Webhooks carry whole seconds: received promptly, the room's close is placed at its
    arrival (inside its second), so it is never before the agents.gone that preceded it."""

    def now() -> str:
        return str(int(time.time()))

    assert await post(intake, "EV_c", "participant_joined", CALLER, now()) == 200
    assert await post(intake, "EV_q", "participant_joined", agent("AJ_q"), now()) == 200
    assert await post(intake, "EV_q_left", "participant_left", agent("AJ_q"), now()) == 200
    created = now()
    assert await post(intake, "EV_end", "room_finished", None, created) == 200
    (gone,) = gone_spans(spans)
    (closed,) = [s for s in spans.get_finished_spans() if s.name == Step.ROOM_CLOSED]
    assert gone.end_time is not None and closed.start_time is not None
    assert gone.end_time <= closed.start_time < (int(created) + 1) * 1_000_000_000
