"""Jaeger all-in-one as the local OTLP receiver and trace UI (``make dev``, the trace tests).

Every listener is set explicitly to loopback (or the given host): OTLP gRPC and HTTP, the
query API/UI, its gRPC port, the admin port, the legacy collector ports. Spans live in memory
and are gone when it stops.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard.errors import StackError
from switchboard.stack.config import free_port
from switchboard.stack.install import binary_path
from switchboard.stack.process import ManagedProcess
from switchboard.stack.versions import JAEGER

READY_SECONDS = 30.0


@dataclass
class Jaeger:
    """One running Jaeger; ``otlp_endpoint`` is what ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes."""

    log_path: Path
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    process: ManagedProcess | None = None

    @property
    def otlp_endpoint(self) -> str:
        """OTLP over HTTP (the exporter appends ``/v1/traces``)."""
        return f"http://{self.host}:{self.ports['otlp_http']}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ports['query_http']}"

    def otel_env(self, service_name: str) -> dict[str, str]:
        """The standard variables that make a Switchboard process export here."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        }

    def start(self) -> Jaeger:
        binary = binary_path(JAEGER)
        if not binary.exists():
            raise StackError(
                f"Jaeger {JAEGER.version} is not built ({binary} is missing). "
                "Fix: run `switchboard stack install` (or `make install`); the build takes "
                "about 5 minutes of CPU."
            )
        names = ("otlp_grpc", "otlp_http", "query_http", "query_grpc", "admin", "grpc", "http")
        self.ports = dict(zip(names, _distinct_ports(len(names)), strict=True))
        address = {name: f"{self.host}:{port}" for name, port in self.ports.items()}
        argv = [
            str(binary),
            "--collector.otlp.enabled=true",
            f"--collector.otlp.grpc.host-port={address['otlp_grpc']}",
            f"--collector.otlp.http.host-port={address['otlp_http']}",
            f"--collector.grpc-server.host-port={address['grpc']}",
            f"--collector.http-server.host-port={address['http']}",
            "--collector.zipkin.host-port=",
            f"--query.http-server.host-port={address['query_http']}",
            f"--query.grpc-server.host-port={address['query_grpc']}",
            f"--admin.http.host-port={address['admin']}",
            "--query.enable-tracing=false",
        ]
        # Jaeger must not trace itself into our endpoint, nor read the caller's OTEL_* setup.
        env = {
            "SPAN_STORAGE_TYPE": "memory",
            "OTEL_SDK_DISABLED": "true",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
        }
        self.process = ManagedProcess("jaeger", argv, self.log_path, env)
        self.process.start()
        self.process.wait_ready(self._ready, READY_SECONDS)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def _ready(self) -> bool:
        try:
            self.get("/api/services")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return True

    def get(self, path: str) -> Any:
        """A query API call (``/api/services``, ``/api/traces?service=...``) as JSON."""
        with urllib.request.urlopen(f"{self.ui_url}{path}", timeout=5) as response:
            return json.loads(response.read())

    def traces(self, service: str, limit: int = 50) -> list[dict[str, Any]]:
        """The traces holding ``service``'s spans, each with every process's spans."""
        data = self.get(f"/api/traces?service={service}&limit={limit}&lookback=1h")
        traces: list[dict[str, Any]] = data.get("data") or []
        return traces


def _distinct_ports(count: int) -> list[int]:
    """``count`` free loopback ports (``free_port`` never hands one out twice)."""
    return [free_port() for _ in range(count)]


def wait_for_spans(
    jaeger: Jaeger, service: str, names: set[str], timeout: float = 30.0, trace_id: int = 0
) -> list[dict[str, Any]]:
    """Poll until one of ``service``'s traces (the one with ``trace_id``, when given) holds
    spans named ``names``, or ``timeout`` passed; returns ``service``'s traces."""
    deadline = time.monotonic() + timeout
    traces: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        traces = jaeger.traces(service)
        for trace in traces:
            if trace_id and int(trace["traceID"], 16) != trace_id:
                continue
            if names <= {span["operationName"] for span in trace["spans"]}:
                return traces
        time.sleep(0.5)
    return traces
