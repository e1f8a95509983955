"""Run the real service (uvicorn, real HTTP) in the test's event loop, and sign webhooks the
way livekit-server does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from livekit import api
from starlette.applications import Starlette

from switchboard.service import ServiceRuntime, create_app
from switchboard.settings import Settings, load_settings
from switchboard.stack.stack import Stack

RULES = """\
version: 1
rules:
  - id: outbound
    when:
      event: room_started
      room.metadata.flow: outbound
    then:
      dispatch:
        - agent: outbound-caller
          metadata: '{"room": "{room.name}"}'
  - id: qualify
    when:
      event: room_started
      room.metadata.flow: qualify
    then:
      dispatch:
        - agent: qualifier
default: nobody
"""
TOKEN_SECRET = "test-token-secret"


def write_rules(directory: Path) -> Path:
    path = directory / "rules.yaml"
    path.write_text(RULES)
    return path


def service_settings(stack: Stack, rules: Path, store_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "livekit_url": stack.config.url,
        "livekit_api_key": stack.config.api_key,
        "livekit_api_secret": stack.config.api_secret,
        "rules": rules,
        "store_url": store_url,
        "token_secret": TOKEN_SECRET,
        "poll_interval": 0.2,
        "reconcile_interval": 0,
        "backoff_base_seconds": 0.3,
        "backoff_max_seconds": 3.0,
    }
    return load_settings(**(values | overrides))


class RunningService:
    """A uvicorn server for one app, as a task of the running loop."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    async def start(self) -> None:
        # _serve, not serve: the test run keeps its own signal handlers.
        self._task = asyncio.create_task(self._server._serve())
        deadline = time.monotonic() + 20
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("uvicorn exited during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start in 20 s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


async def start_service(settings: Settings, port: int) -> RunningService:
    service = RunningService(create_app(settings), port)
    await service.start()
    return service


def sign(stack: Stack, body: bytes, ttl: timedelta = timedelta(minutes=5)) -> str:
    """The Authorization header livekit-server sends: a bare JWT with the body's sha256."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token: str = (
        api.AccessToken(stack.config.api_key, stack.config.api_secret)
        .with_ttl(ttl)
        .with_sha256(digest)
        .to_jwt()
    )
    return token


def room_started_body(room: api.Room, event_id: str | None = None) -> bytes:
    """A ``room_started`` body shaped like the server's (protojson, lowerCamelCase)."""
    event = {
        "event": "room_started",
        "room": {
            "sid": room.sid,
            "name": room.name,
            "emptyTimeout": room.empty_timeout,
            "creationTime": str(room.creation_time),
            "metadata": room.metadata,
        },
        "id": event_id or f"EV_{secrets.token_hex(6)}",
        "createdAt": str(int(time.time())),
    }
    return json.dumps(event, separators=(",", ":")).encode()


def webhook_headers(stack: Stack, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/webhook+json", "Authorization": sign(stack, body)}


async def switchboard(stack: Stack, *args: str) -> tuple[int, str, str]:
    """Run the CLI in its own process (it calls asyncio.run, and the service shares our loop)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LIVEKIT_", "SWITCHBOARD_"))
    }
    env |= stack.config.env()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
