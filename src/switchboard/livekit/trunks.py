"""SIP trunks on a LiveKit server: an inbound trunk answering numbers, an outbound trunk to an
address (a carrier, a PBX, a softphone), and the list of both."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from livekit import api

from switchboard.errors import ConfigError
from switchboard.livekit.client import LiveKitClient

_NUMBER = re.compile(r"\+?[0-9]{2,15}")
_ADDRESS = re.compile(r"[A-Za-z0-9.\-\[\]:]+")


@dataclass(frozen=True)
class Trunk:
    """One SIP trunk as the server holds it."""

    trunk_id: str
    direction: Literal["inbound", "outbound"]
    name: str
    numbers: tuple[str, ...]
    address: str = ""

    def line(self) -> str:
        where = f" → {self.address}" if self.address else ""
        return (
            f"{self.trunk_id}  {self.direction:8}  {self.name!r}  {','.join(self.numbers)}{where}"
        )


def check_number(number: str) -> str:
    """``number`` if it is a phone number (digits, an optional leading +), else ``ConfigError``."""
    if not _NUMBER.fullmatch(number):
        raise ConfigError(f"{number!r} is not a phone number: write it in E.164, e.g. +19497710000")
    return number


def check_address(address: str) -> str:
    """``address`` if it is ``host[:port]``, else ``ConfigError`` (no scheme, no user part)."""
    if not _ADDRESS.fullmatch(address) or address.startswith(":"):
        raise ConfigError(
            f"{address!r} is not a SIP address: give host[:port], e.g. 127.0.0.1:5070 or "
            "example.pstn.twilio.com (no sip: scheme, no user@)"
        )
    return address


async def create_inbound_trunk(client: LiveKitClient, name: str, numbers: list[str]) -> Trunk:
    """An inbound trunk: calls to ``numbers`` are accepted (and routed by the dispatch rules)."""
    info = api.SIPInboundTrunkInfo(name=name, numbers=[check_number(n) for n in numbers])
    created = await client.call(
        "CreateSIPInboundTrunk",
        client.api.sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(trunk=info)),
    )
    return Trunk(created.sip_trunk_id, "inbound", created.name, tuple(created.numbers))


async def create_outbound_trunk(
    client: LiveKitClient, name: str, address: str, numbers: list[str]
) -> Trunk:
    """An outbound trunk: calls placed through it go to ``address``, from ``numbers``."""
    info = api.SIPOutboundTrunkInfo(
        name=name, address=check_address(address), numbers=[check_number(n) for n in numbers]
    )
    created = await client.call(
        "CreateSIPOutboundTrunk",
        client.api.sip.create_outbound_trunk(api.CreateSIPOutboundTrunkRequest(trunk=info)),
    )
    return Trunk(
        created.sip_trunk_id, "outbound", created.name, tuple(created.numbers), created.address
    )


async def list_trunks(client: LiveKitClient) -> list[Trunk]:
    """Every SIP trunk on the server, inbound first."""
    inbound = await client.call(
        "ListSIPInboundTrunk",
        client.api.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()),
    )
    outbound = await client.call(
        "ListSIPOutboundTrunk",
        client.api.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest()),
    )
    return [
        *(Trunk(t.sip_trunk_id, "inbound", t.name, tuple(t.numbers)) for t in inbound.items),
        *(
            Trunk(t.sip_trunk_id, "outbound", t.name, tuple(t.numbers), t.address)
            for t in outbound.items
        ),
    ]
