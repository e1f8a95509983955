"""A call's trace context: derived alike in every process, carried by traceparent, parented
right; the service's webhook spans land in the call's trace (an in-memory SDK exporter)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from switchboard import telemetry
from switchboard.agents.jobs import OutboundCallJob
from switchboard.rules import RulesHolder
from switchboard.service.intake import WebhookIntake
from switchboard.store import Store
from switchboard.telemetry import setup
from switchboard.tracing.steps import Step
from tests.unit.service.test_intake import KEY, RULES, SECRET, body, sign


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=setup._id_generator())  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.setup.use(provider)
    yield exporter
    telemetry.shutdown()


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def test_the_call_context_is_a_function_of_the_room_session() -> None:
    one, again = telemetry.call_span_context("RM_a"), telemetry.call_span_context("RM_a")
    other = telemetry.call_span_context("RM_b")
    assert (one.trace_id, one.span_id) == (again.trace_id, again.span_id)
    assert one.trace_id != other.trace_id
    assert one.is_valid and one.trace_flags.sampled


def test_traceparent_round_trips_and_bad_values_are_ignored() -> None:
    context = telemetry.call_context("RM_a")
    carried = telemetry.traceparent(context)
    root = telemetry.call_span_context("RM_a")
    assert carried == f"00-{root.trace_id:032x}-{root.span_id:016x}-01"
    back = telemetry.context_from_traceparent(carried)
    assert back is not None and telemetry.traceparent(back) == carried
    for bad in ("", "garbage", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", carried + "x"):
        assert telemetry.context_from_traceparent(bad) is None


def test_the_outbound_job_carries_the_traceparent_only_when_there_is_one() -> None:
    job = OutboundCallJob(number="+15550100200", sip_trunk_id="ST_1")
    assert "traceparent" not in json.loads(job.to_metadata())
    carried = telemetry.traceparent(telemetry.call_context("RM_a"))
    with_context = job.model_copy(update={"traceparent": carried})
    assert OutboundCallJob.parse(with_context.to_metadata()).traceparent == carried


def test_spans_join_the_call_and_the_root_has_the_derived_ids(
    spans: InMemorySpanExporter,
) -> None:
    room = telemetry.call_span_context("RM_a")
    claimed = telemetry.step_span(Step.JOB_CLAIMED, telemetry.call_context("RM_a"))
    with claimed, telemetry.step_span(Step.CREATE_DISPATCH):
        pass
    telemetry.record_call("RM_a", 1_000, 2_000)
    got = by_name(spans)
    assert {s.context.trace_id for s in got.values()} == {room.trace_id}
    assert got[Step.JOB_CLAIMED].parent is not None
    assert got[Step.JOB_CLAIMED].parent.span_id == room.span_id
    assert got[Step.CREATE_DISPATCH].parent.span_id == got[Step.JOB_CLAIMED].context.span_id  # type: ignore[union-attr]
    assert got[Step.CALL].context.span_id == room.span_id and got[Step.CALL].parent is None


def test_without_a_parent_spans_follow_the_process_default_call(
    spans: InMemorySpanExporter,
) -> None:
    carried = telemetry.context_from_traceparent(
        telemetry.traceparent(telemetry.call_context("RM_x"))
    )
    assert carried is not None
    telemetry.follow(carried)
    states = telemetry.StateSpans("qualifier")
    states.enter("state", Step.AGENT_STATE, {"switchboard.state": "asking"})
    states.enter("state", Step.AGENT_STATE, {"switchboard.state": "transferring"})
    states.close()
    assert telemetry.current_traceparent() == telemetry.traceparent(carried)
    finished = spans.get_finished_spans()
    assert [s.attributes["switchboard.state"] for s in finished] == ["asking", "transferring"]  # type: ignore[index]
    assert {s.context.trace_id for s in finished} == {telemetry.call_span_context("RM_x").trace_id}


async def test_a_webhook_is_traced_in_its_rooms_call(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    steps: list[Step] = []

    async def enqueued() -> None:
        return None

    intake = WebhookIntake(
        store, RulesHolder(rules), KEY, SECRET, enqueued, on_step=lambda s, _t: steps.append(s)
    )
    try:
        payload = body()
        result = await intake.handle(payload, sign(payload))
    finally:
        await store.close()
    assert result.outcome == "recorded"
    got = by_name(spans)
    room = telemetry.call_span_context("RM_1")
    assert got[Step.WEBHOOK].parent.span_id == room.span_id  # type: ignore[union-attr]
    assert got[Step.DECISION].parent.span_id == got[Step.WEBHOOK].context.span_id  # type: ignore[union-attr]
    assert got[Step.DECISION].attributes["switchboard.rule"] == "qualify"  # type: ignore[index]
    assert steps == [Step.DECISION, Step.WEBHOOK]


def test_export_is_on_only_when_the_otel_variables_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*setup.ENDPOINT_VARIABLES, "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    assert not telemetry.export_enabled()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert telemetry.export_enabled()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not telemetry.export_enabled()


async def test_a_sip_leg_and_the_room_closing_become_spans_of_the_call(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")

    async def enqueued() -> None:
        return None

    intake = WebhookIntake(store, RulesHolder(rules), KEY, SECRET, enqueued)
    room = {"sid": "RM_1", "name": "room-1", "creationTime": "1700000000"}
    sip = {
        "sid": "PA_1",
        "identity": "sip_+15551234567",
        "kind": "SIP",
        "joinedAt": "1700000002",
        "attributes": {"sip.callID": "SCL_1", "sip.phoneNumber": "+15551234567"},
    }
    events = [
        body("participant_left", id="EV_2", room=room, participant=sip, createdAt="1700000030"),
        body("room_finished", id="EV_3", room=room, createdAt="1700000040"),
    ]
    try:
        for payload in events:
            assert (await intake.handle(payload, sign(payload))).outcome == "recorded"
    finally:
        await store.close()
    got = by_name(spans)
    root = telemetry.call_span_context("RM_1")
    leg, call = got[Step.SIP_LEG], got[Step.CALL]
    assert leg.parent.span_id == root.span_id  # type: ignore[union-attr]
    assert (leg.end_time - leg.start_time) / 1e9 == 28  # type: ignore[operator]
    assert leg.attributes["sip.callID"] == "SCL_1"  # type: ignore[index]
    assert "sip.phoneNumber" not in leg.attributes  # type: ignore[operator]
    assert (call.context.trace_id, call.context.span_id) == (root.trace_id, root.span_id)
    assert (call.end_time - call.start_time) / 1e9 == 40  # type: ignore[operator]
    assert got[Step.ROOM_CLOSED].parent.span_id == root.span_id  # type: ignore[union-attr]
