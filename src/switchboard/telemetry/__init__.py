"""OpenTelemetry emission: one trace per call, from the service and the agents.

``setup`` configures an SDK tracer only when the standard ``OTEL_*`` variables ask for export;
otherwise spans go to the OpenTelemetry API's (no-op or user-configured) global provider.
``context`` derives a call's trace from its room session so every process joins the same trace
without talking to the others; ``spans`` names every span by ``switchboard.tracing.Step``.
"""

from __future__ import annotations

from switchboard.telemetry.context import (
    call_context,
    call_span_context,
    context_from_traceparent,
    traceparent,
)
from switchboard.telemetry.jobs import follow, trace_job
from switchboard.telemetry.setup import export_enabled, flush, shutdown, tracer
from switchboard.telemetry.spans import (
    OnEnd,
    StateSpans,
    current_traceparent,
    record_call,
    record_step,
    start_step,
    step_span,
)

__all__ = [
    "OnEnd",
    "StateSpans",
    "call_context",
    "call_span_context",
    "context_from_traceparent",
    "current_traceparent",
    "export_enabled",
    "flush",
    "follow",
    "record_call",
    "record_step",
    "shutdown",
    "start_step",
    "step_span",
    "trace_job",
    "traceparent",
    "tracer",
]
