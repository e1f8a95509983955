"""A call's trace context, derived from the caller's room session so every process agrees.

The trace id and the root (``call``) span id are a hash of the room sid: the service (from the
webhook), an agent dispatched by a SIP rule's room_config (no service in the path) and an agent
dispatched by the service all compute the same parent without passing anything. When a call
leads to another room, the context travels as a W3C ``traceparent`` (the outbound-caller's job
metadata carries it) and the new room's spans stay in the caller's trace.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context

_SALT: Final = b"switchboard.call:"
_TRACEPARENT: Final = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def call_span_context(room_sid: str) -> trace.SpanContext:
    """The root ``call`` span of the room session ``room_sid`` (same in every process)."""
    digest = hashlib.sha256(_SALT + room_sid.encode()).digest()
    trace_id = int.from_bytes(digest[:16], "big") or 1
    span_id = int.from_bytes(digest[16:24], "big") or 1
    return trace.SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)
    )


def call_context(room_sid: str) -> Context:
    """An OpenTelemetry context whose parent is the call's root span."""
    return trace.set_span_in_context(trace.NonRecordingSpan(call_span_context(room_sid)))


def traceparent(context: Context | None = None) -> str:
    """The W3C ``traceparent`` of the current (or given) context's span; "" when there is none."""
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return ""
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{int(span_context.trace_flags):02x}"
    )


def context_from_traceparent(value: str) -> Context | None:
    """The context a ``traceparent`` names; None when ``value`` is empty or malformed."""
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        return None
    trace_id, span_id = int(match.group(1), 16), int(match.group(2), 16)
    if not trace_id or not span_id:
        return None
    span_context = trace.SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=trace.TraceFlags(int(match.group(3), 16))
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context))
