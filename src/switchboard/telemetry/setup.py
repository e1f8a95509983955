"""The tracer every Switchboard span comes from, configured from the standard OTEL_* variables.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set (or
``OTEL_TRACES_EXPORTER=otlp``), this process gets its own SDK ``TracerProvider`` exporting over
OTLP/HTTP in batches. Without them the OpenTelemetry API's global provider is used: a no-op
unless the application configured one itself. The global provider is never replaced, so
livekit-agents' own spans (sessions, LLM calls) stay out of the call trace unless the user
routes them there.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace

logger = logging.getLogger("switchboard.telemetry")

INSTRUMENTATION: Final = "switchboard"
DEFAULT_SERVICE_NAME: Final = "switchboard"
ENDPOINT_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_lock = threading.Lock()
_tracer: trace.Tracer | None = None
_provider: object | None = None  # opentelemetry.sdk.trace.TracerProvider when exporting


def export_enabled() -> bool:
    """True when the environment asks for OTLP export of traces."""
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return exporter == "otlp" or any(os.environ.get(v, "").strip() for v in ENDPOINT_VARIABLES)


def tracer(service_name: str = DEFAULT_SERVICE_NAME) -> trace.Tracer:
    """This process's tracer; the first call decides (later ``service_name``s are ignored).

    ``OTEL_SERVICE_NAME`` wins over ``service_name``, as the specification says.
    """
    global _tracer, _provider
    if _tracer is not None:
        return _tracer
    with _lock:
        if _tracer is None:
            if export_enabled():
                _provider = _sdk_provider(service_name)
                _tracer = _provider.get_tracer(INSTRUMENTATION)  # type: ignore[attr-defined]
            else:
                _tracer = trace.get_tracer(INSTRUMENTATION)
    return _tracer


def use(provider: trace.TracerProvider) -> None:
    """Emit through ``provider`` (an application's own SDK provider, or a test's)."""
    global _tracer, _provider
    with _lock:
        _provider = provider
        _tracer = provider.get_tracer(INSTRUMENTATION)


def flush(timeout_millis: int = 5000) -> None:
    """Export the spans still buffered (an agent job calls this before its process exits)."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


def shutdown() -> None:
    """Flush and stop exporting; a later ``tracer()`` configures afresh."""
    global _tracer, _provider
    with _lock:
        provider, _provider, _tracer = _provider, None, None
    stop = getattr(provider, "shutdown", None)
    if stop is not None:
        stop()


def _sdk_provider(service_name: str) -> object:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            f"OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is missing ({exc}). "
            "Fix: pip install 'livekit-switchboard[service]' (or opentelemetry-sdk and "
            "opentelemetry-exporter-otlp-proto-http), or unset OTEL_EXPORTER_OTLP_ENDPOINT."
        ) from exc
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service_name
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: name}),
        id_generator=_id_generator(),  # type: ignore[arg-type]
    )
    # The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) itself; headers may
    # hold credentials, so neither they nor the endpoint's query string are ever logged.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    logger.info("tracing: exporting spans over OTLP/HTTP", extra={"service": name})
    return provider


_forced: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "switchboard_forced_ids", default=None
)


@contextmanager
def forced_ids(trace_id: int, span_id: int) -> Iterator[None]:
    """Spans started inside get exactly these ids (the derived root ``call`` span)."""
    token = _forced.set((trace_id, span_id))
    try:
        yield
    finally:
        _forced.reset(token)


def _id_generator() -> object:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class CallIds(RandomIdGenerator):
        """Random ids, except inside ``forced_ids``."""

        def generate_trace_id(self) -> int:
            forced = _forced.get()
            return forced[0] if forced else super().generate_trace_id()

        def generate_span_id(self) -> int:
            forced = _forced.get()
            return forced[1] if forced else super().generate_span_id()

    return CallIds()
