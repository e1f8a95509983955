"""How to place a call into the system ``switchboard dev`` runs: a softphone or the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from livekit import api

from switchboard.livekit import LiveKitClient
from switchboard.rules import CompiledRules, compile_native


async def inbound_numbers(client: LiveKitClient) -> list[str]:
    """Every number the server's inbound SIP trunks answer, in trunk order."""
    response = await client.call(
        "ListSIPInboundTrunk", client.api.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    )
    return list(dict.fromkeys(n for trunk in response.items for n in trunk.numbers))


def called_numbers(rules: CompiledRules) -> list[str]:
    """The called numbers the rules route natively (their SIP dispatch rules' ``numbers``)."""
    native = compile_native(rules).sip_rules
    return list(dict.fromkeys(n for rule in native for n in rule.numbers))


def how_to_call(numbers: Sequence[str], sip_address: str) -> list[str]:
    """The lines that say how to call in; ``sip_address`` is host[:port], or "" when unknown."""
    if not numbers:
        return [
            "# place a call: the server has no inbound SIP trunk with a number; create one "
            "(lk sip inbound create, or Cloud: Telephony → SIP trunks), then restart"
        ]
    host = sip_address or "<your SIP host>"
    lines = ["# place a call (a softphone, or from this terminal; keypad digits are DTMF):"]
    for number in numbers:
        lines.append(f"#   dial {number}   SIP URI sip:{number}@{host}")
    lines.append(f"#   switchboard call {numbers[0]} --sip-address {host}")
    if not sip_address:
        lines.append(
            "#   (<your SIP host>: Cloud: Settings → Project → SIP URI; self-hosted: the "
            "address livekit-sip listens on; or pass --sip-address to switchboard dev)"
        )
    return lines
