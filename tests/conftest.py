"""Fixtures that start the real LiveKit stack and real workers, and always stop them."""

from __future__ import annotations

import gc
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
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


class _UnclosedReports(logging.Handler):
    """aiohttp reports a session or connector it garbage-collects unclosed through the event
    loop's exception handler, i.e. the ``asyncio`` logger, not always as a warning."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Unclosed client session", "Unclosed connector")):
            self.messages.append(message)


@pytest.fixture(scope="session", autouse=True)
def unclosed_aiohttp_sessions_fail_the_run() -> Iterator[None]:
    """Fail the run on an aiohttp session that a test, fixture or helper never closed.

    pyproject's filterwarnings turn the ResourceWarning of one collected during a test into an
    error; this catches the rest: one still referenced at the end (a leak all the same), and the
    asyncio logger's "Unclosed client session" when the warning was not raised.
    """
    reports = _UnclosedReports()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(reports)
    try:
        yield
        gc.collect()
        still_open = [
            repr(obj)
            for obj in gc.get_objects()
            if isinstance(obj, aiohttp.ClientSession) and not obj.closed
        ]
    finally:
        asyncio_logger.removeHandler(reports)
    problems = reports.messages + [f"Unclosed client session {s} (still open)" for s in still_open]
    if problems:
        pytest.fail(
            "aiohttp sessions left unclosed (close each: `await client.aclose()`, or "
            "`async with api.LiveKitAPI(...)`):\n  " + "\n  ".join(problems),
            pytrace=False,
        )
