"""The service under test: its own stack whose webhooks reach the service (or, for rooms named
``az-…``, the Azure Function), named workers only, and the real PostgreSQL for replicas.

Only named workers run here (``qualifier``, ``outbound-caller``), as in a real Switchboard
deployment: a room created with no agent list (a plain-token join, ``CreateRoom`` without
``agents``) makes the server dispatch every *unnamed* worker (docs/livekit-semantics.md, a).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.stack import Stack
from tests.integration.service.front import WebhookFront
from tests.integration.service.harness import (
    RunningService,
    service_settings,
    start_service,
    write_rules,
)
from tests.integration.store.fixtures import postgres_server, postgres_url  # noqa: F401
from tests.support.workers import WorkerPool, start_probe_workers

NAMED_WORKERS = ["qualifier", "outbound-caller"]


def new_stack(name: str, webhook_urls: list[str]) -> Stack:
    config = StackConfig(
        webhook_urls=webhook_urls, departure_timeout=4, empty_timeout=20, with_sip=False
    )
    stack = Stack.create(f"{name}-{uuid.uuid4().hex[:8]}", config)
    stack.start(lambda _message: None)
    return stack


@pytest.fixture(scope="session")
def front_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def service_stack(front_port: int) -> Iterator[Stack]:
    stack = new_stack("svc", [f"http://127.0.0.1:{front_port}/livekit/webhook"])
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def named_workers(
    service_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerPool]:
    pool = start_probe_workers(service_stack, NAMED_WORKERS, tmp_path_factory.mktemp("svc-workers"))
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def rules_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rules(tmp_path_factory.mktemp("rules"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def service(
    service_stack: Stack, rules_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningService]:
    """The ASGI service over uvicorn on a SQLite store."""
    store = tmp_path_factory.mktemp("svc-store") / "switchboard.db"
    settings = service_settings(service_stack, rules_path, f"sqlite+aiosqlite:///{store}")
    running = await start_service(settings, free_port())
    yield running
    await running.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def front(
    front_port: int,
    service: RunningService,
    service_stack: Stack,
    rules_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WebhookFront]:
    """What the stack posts to: ``az-…`` rooms go to the Azure Function, the rest to the service."""
    store = tmp_path_factory.mktemp("az-store") / "switchboard.db"
    settings = service_settings(
        service_stack, rules_path, f"sqlite+aiosqlite:///{store}", mode="function"
    )
    front = WebhookFront(settings, service.url, front_port)
    await front.start()
    yield front
    await front.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def svc_api(service_stack: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(
        service_stack.config.http_url, service_stack.config.api_key, service_stack.config.api_secret
    )
    yield client
    await client.aclose()
