"""A real HTTP endpoint that records what livekit-server posts to it, byte for byte."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedWebhook:
    body: bytes
    headers: dict[str, str]
    at: float

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookSink:
    received: list[ReceivedWebhook] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with sink._lock:
                    sink.received.append(
                        ReceivedWebhook(body, {k: v for k, v in self.headers.items()}, time.time())
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhook"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def for_room(self, room: str) -> list[ReceivedWebhook]:
        with self._lock:
            return [w for w in self.received if w.json().get("room", {}).get("name") == room]

    def wait_for(self, room: str, event: str, timeout: float = 15.0) -> ReceivedWebhook:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for hook in self.for_room(room):
                if hook.json().get("event") == event:
                    return hook
            time.sleep(0.05)
        seen = [w.json().get("event") for w in self.for_room(room)]
        raise AssertionError(f"no '{event}' webhook for room {room} within {timeout}s; saw {seen}")
