"""A LiveKit project treated as remote: a separately started stack whose webhooks go to the port
``switchboard dev --remote`` will listen on, with an inbound SIP trunk like a real project."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.stack import Stack

INBOUND_NUMBER = "+15550007777"


@dataclass(frozen=True)
class RemoteProject:
    stack: Stack
    service_port: int
    """Where the project's webhook points: the port the test gives ``dev --remote --port``."""

    @property
    def env(self) -> dict[str, str]:
        return self.stack.config.env()


@pytest.fixture(scope="module")
def remote_project() -> Iterator[RemoteProject]:
    port = free_port()
    config = StackConfig(
        api_key="remote-key",
        webhook_urls=[f"http://127.0.0.1:{port}/livekit/webhook"],
        departure_timeout=4,
        empty_timeout=30,
    )
    stack = Stack.create(f"remote-{uuid.uuid4().hex[:6]}", config)
    stack.start(lambda _m: None)
    try:
        asyncio.run(_inbound_trunk(config))
        yield RemoteProject(stack, port)
    finally:
        stack.stop()


async def _inbound_trunk(config: StackConfig) -> None:
    async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lkapi:
        await lkapi.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="remote inbound", numbers=[INBOUND_NUMBER])
            )
        )
