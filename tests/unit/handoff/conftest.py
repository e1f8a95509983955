from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from livekit import api

from .fake_livekit import FakeLiveKit


@pytest.fixture
async def fake_livekit() -> AsyncIterator[FakeLiveKit]:
    server = FakeLiveKit()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def lkapi_fake(fake_livekit: FakeLiveKit) -> AsyncIterator[api.LiveKitAPI]:
    client = fake_livekit.client()
    yield client
    await client.aclose()
