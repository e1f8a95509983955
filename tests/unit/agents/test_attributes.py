"""The attribute publisher: changes reach the server in the order they were made, whether the
agent waited for each round trip (``publish``) or went on with its work (``publish_soon``)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from livekit import rtc

from switchboard.agents.attributes import STATE, AttributePublisher


class _Participant:
    """Stands in for livekit's LocalParticipant: each round trip takes ``delays`` in turn."""

    def __init__(self, delays: list[float]) -> None:
        self.delays = delays
        self.received: list[dict[str, str]] = []

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        await asyncio.sleep(self.delays.pop(0) if self.delays else 0)
        self.received.append(attributes)


class _Room:
    name = "room"

    def __init__(self, participant: _Participant) -> None:
        self.local_participant = participant

    def isconnected(self) -> bool:
        return True


def _publisher(delays: list[float]) -> tuple[AttributePublisher, _Participant]:
    participant = _Participant(delays)
    return AttributePublisher(cast(rtc.Room, cast(Any, _Room(participant))), "agent"), participant


async def test_a_change_not_waited_for_still_reaches_the_server_first() -> None:
    publisher, participant = _publisher([0.05, 0])
    sent = publisher.publish_soon({STATE: "dialing"})
    await publisher.publish({STATE: "briefing"})
    assert sent.done()
    assert participant.received == [{STATE: "dialing"}, {STATE: "briefing"}]


async def test_publish_soon_returns_before_the_round_trip() -> None:
    publisher, participant = _publisher([0.05])
    sent = publisher.publish_soon({STATE: "dialing"})
    assert publisher.current == {STATE: "dialing"}
    assert participant.received == []
    await sent
    assert participant.received == [{STATE: "dialing"}]


async def test_only_what_changed_is_sent() -> None:
    publisher, participant = _publisher([])
    await publisher.publish({STATE: "dialing", "switchboard.callee": "human"})
    await publisher.publish({STATE: "dialing", "switchboard.callee": "other"})
    await publisher.publish({STATE: "dialing"})
    assert participant.received == [
        {STATE: "dialing", "switchboard.callee": "human"},
        {"switchboard.callee": "other"},
    ]
