"""Spans named by ``Step``: timed blocks, spans recorded after the fact, and state spans.

Each helper takes an explicit parent ``context``; without one, the current span's context, and
without that the call this process serves (``set_default_context``, one call per agent job).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util.types import AttributeValue

from switchboard.telemetry.context import call_span_context, traceparent
from switchboard.telemetry.setup import forced_ids, tracer
from switchboard.tracing.steps import Step

Attributes = Mapping[str, AttributeValue]
OnEnd = Callable[[Step, float], None]
"""Called with the step and its duration in seconds when a span ends (metrics hook)."""

_default_context: contextvars.ContextVar[Context | None] = contextvars.ContextVar(
    "switchboard_call_context", default=None
)
_process_default: list[Context] = []
STATE_ATTRIBUTE: Final = "switchboard.state"
AGENT_ATTRIBUTE: Final = "switchboard.agent"


def set_default_context(context: Context) -> None:
    """Make ``context`` the parent of spans started without one, in this process."""
    _process_default[:] = [context]
    _default_context.set(context)


def _parent(context: Context | None) -> Context | None:
    if context is not None:
        return context
    if trace.get_current_span().get_span_context().is_valid:
        return None  # the current context
    return _default_context.get() or (_process_default[0] if _process_default else None)


def current_traceparent() -> str:
    """The ``traceparent`` to hand on: the current span's, else this process's call."""
    return traceparent(_parent(None))


@contextmanager
def step_span(
    step: Step,
    context: Context | None = None,
    attributes: Attributes | None = None,
    on_end: OnEnd | None = None,
) -> Iterator[trace.Span]:
    """A span around the block, current inside it; ``on_end`` gets its duration."""
    started = time.perf_counter()
    try:
        with tracer().start_as_current_span(
            step.value, context=_parent(context), attributes=attributes
        ) as span:
            yield span
    finally:
        if on_end is not None:
            on_end(step, time.perf_counter() - started)


def start_step(
    step: Step, context: Context | None = None, attributes: Attributes | None = None
) -> trace.Span:
    """A span the caller ends (``span.end()``); not made current."""
    return tracer().start_span(step.value, context=_parent(context), attributes=attributes)


def record_step(
    step: Step,
    start_ns: int,
    end_ns: int,
    context: Context | None = None,
    attributes: Attributes | None = None,
    on_end: OnEnd | None = None,
) -> None:
    """A span for something that already happened, from ``start_ns`` to ``end_ns`` (epoch ns)."""
    end_ns = max(start_ns, end_ns)
    span = tracer().start_span(
        step.value, context=_parent(context), attributes=attributes, start_time=start_ns
    )
    span.end(end_time=end_ns)
    if on_end is not None:
        on_end(step, (end_ns - start_ns) / 1e9)


def record_call(
    room_sid: str, start_ns: int, end_ns: int, attributes: Attributes | None = None
) -> None:
    """The root ``call`` span of ``room_sid``, with the ids every process derived for it."""
    root = call_span_context(room_sid)
    with forced_ids(root.trace_id, root.span_id):
        span = tracer().start_span(
            Step.CALL.value, context=Context(), attributes=attributes, start_time=start_ns
        )
    span.end(end_time=max(start_ns, end_ns))


class StateSpans:
    """One open span per kind of state (an agent's ``switchboard.state``, a hand-off step).

    ``enter`` ends the kind's previous span and starts the next; ``close`` ends what is open.
    """

    def __init__(self, agent: str, context: Context | None = None) -> None:
        self._agent = agent
        self._context = context
        self._open: dict[str, trace.Span] = {}

    def set_context(self, context: Context) -> None:
        """Parent the next spans under ``context`` (the job learned its call)."""
        self._context = context

    def enter(self, kind: str, step: Step | None, attributes: Attributes | None = None) -> None:
        """End ``kind``'s open span; start a ``step`` span for it unless ``step`` is None."""
        previous = self._open.pop(kind, None)
        if previous is not None:
            previous.end()
        if step is None:
            return
        attrs = {AGENT_ATTRIBUTE: self._agent, **(attributes or {})}
        self._open[kind] = start_step(step, self._context, attrs)

    def mark(self, step: Step, attributes: Attributes | None = None) -> None:
        """A zero-length span: something that happened at one instant (e.g. connected)."""
        now = time.time_ns()
        attrs = {AGENT_ATTRIBUTE: self._agent, **(attributes or {})}
        record_step(step, now, now, self._context, attrs)

    def close(self) -> None:
        for span in self._open.values():
            span.end()
        self._open.clear()
