"""Fixtures that start the real LiveKit stack and real workers, and always stop them."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.config import StackConfig
from switchboard.stack.process import group_alive, started_process_groups
from switchboard.stack.stack import Stack
from tests.support.webhook_sink import WebhookSink
from tests.support.workers import WorkerPool, start_probe_workers

SESSION_DEPARTURE_TIMEOUT = 4
SESSION_EMPTY_TIMEOUT = 30


def _progress(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr)


@pytest.fixture(scope="session")
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def livekit_stack(webhook_sink: WebhookSink) -> Iterator[Stack]:
    """livekit-server + livekit-sip + redis on loopback, shared by the session."""
    url = webhook_sink.start() if webhook_sink._server is None else _sink_url(webhook_sink)
    config = StackConfig(
        webhook_urls=[url],
        departure_timeout=SESSION_DEPARTURE_TIMEOUT,
        empty_timeout=SESSION_EMPTY_TIMEOUT,
    )
    stack = Stack.create(f"pytest-{uuid.uuid4().hex[:8]}", config)
    stack.start(_progress)
    yield stack
    stack.stop()


def _sink_url(sink: WebhookSink) -> str:
    assert sink._server is not None
    return f"http://127.0.0.1:{sink._server.server_address[1]}/webhook"


@pytest.fixture(scope="session")
def probe_workers(
    livekit_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerPool]:
    """Three real workers: unnamed (automatic dispatch), qualifier, outbound-caller."""
    pool = start_probe_workers(
        livekit_stack, ["", "qualifier", "outbound-caller"], tmp_path_factory.mktemp("workers")
    )
    yield pool
    pool.stop()


@pytest.fixture
async def lkapi(livekit_stack: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(
        livekit_stack.config.http_url, livekit_stack.config.api_key, livekit_stack.config.api_secret
    )
    yield client
    await client.aclose()


@pytest.fixture
def room_name(request: pytest.FixtureRequest) -> str:
    """A fresh room name per test, readable in server logs."""
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:6]}".replace("[", "-").replace("]", "")


def pytest_configure(config: pytest.Config) -> None:
    Path("test-artifacts").mkdir(exist_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process a fixture started (or its children) outlived it."""
    leftovers = [pgid for pgid in started_process_groups if group_alive(pgid)]
    if leftovers:
        print(f"\nERROR: processes left behind by the tests (process groups {leftovers})")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
