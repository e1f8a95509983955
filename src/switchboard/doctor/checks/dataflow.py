"""Where a dialled number comes from: follow it from CreateSIPParticipant back to its sender.

An agent that dials `json.loads(ctx.job.metadata)["phone_number"]` dials whatever the code that
dispatched it put in that field. Matching the dial's field against the metadata sent to the
dialling agent (CreateAgentDispatchRequest, RoomAgentDispatch, CreateRoomRequest) tells whether
the number is one of this project's inbound numbers (a SIP 482 loop), a number outside the project,
or something the doctor cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from switchboard.doctor.inventory import (
    DialTarget,
    InboundTrunk,
    Inventory,
    MetadataSend,
    MetadataValue,
)
from switchboard.doctor.loaders.python_scan import DYNAMIC_AGENT


def normalize_number(number: str) -> str:
    """A phone number without `tel:`/`sip:`, host, spaces, punctuation or leading `+`."""
    user = re.sub(r"^(sips?|tel):", "", number.strip()).split("@", 1)[0]
    return re.sub(r"[\s\-().]", "", user).lstrip("+")


class Verdict(StrEnum):
    """What the doctor knows about one number a dial can receive."""

    INBOUND = "an inbound number of this project"
    OUTSIDE = "outside this project"
    UNKNOWN = "unknown to the doctor"


@dataclass(frozen=True)
class Origin:
    """One way a dial gets its number: a literal in the dial, or a field some sender fills."""

    verdict: Verdict
    number: str
    source: str
    detail: str
    trunk: InboundTrunk | None = None


@dataclass
class TracedDial:
    """A dial and every origin found for its number."""

    dial: DialTarget
    origins: list[Origin] = field(default_factory=list)

    @property
    def loops(self) -> list[Origin]:
        """Origins that make the dial call one of this project's own inbound numbers."""
        return [origin for origin in self.origins if origin.verdict is Verdict.INBOUND]

    @property
    def unknown(self) -> bool:
        """True when some number this dial may receive is not known to the doctor."""
        return not self.origins or any(o.verdict is Verdict.UNKNOWN for o in self.origins)


def trace_dials(inventory: Inventory) -> list[TracedDial]:
    """Every scanned CreateSIPParticipant with the origins of the number it dials."""
    inbound = {
        normalize_number(number): trunk
        for trunk in inventory.inbound_trunks
        for number in trunk.numbers
    }
    traced: list[TracedDial] = []
    for dial in inventory.dial_targets:
        result = TracedDial(dial)
        if dial.literal:
            result.origins.append(
                _judge(dial.number, dial.source, f"sip_call_to={dial.number!r}", inbound)
            )
        elif dial.metadata_field:
            for send in _senders_to(inventory, dial):
                result.origins.append(_from_send(send, dial, inbound))
        traced.append(result)
    return traced


def _senders_to(inventory: Inventory, dial: DialTarget) -> list[MetadataSend]:
    """Metadata sent to the agent that runs the dial (any agent when the program has no worker)."""
    names = {worker.agent_name for worker in inventory.workers_of(dial.program)}
    return [
        send
        for send in inventory.metadata_sends
        if send.origin is dial.metadata_origin
        and (not names or DYNAMIC_AGENT in send.agents or names.intersection(send.agents))
    ]


def _from_send(send: MetadataSend, dial: DialTarget, inbound: dict[str, InboundTrunk]) -> Origin:
    where = f"{dial.metadata_origin} metadata field {dial.metadata_field!r}"
    if send.fields is None:
        return Origin(Verdict.UNKNOWN, "", send.source, f"{where}: metadata not readable")
    value: MetadataValue | None = send.fields.get(dial.metadata_field)
    if value is None:
        return Origin(Verdict.UNKNOWN, "", send.source, f"{where} is not set here")
    if value.is_inbound_number:
        detail = f"{where} = {value.expression}: the number the caller dialled"
        return Origin(Verdict.INBOUND, value.expression, send.source, detail)
    if value.value is not None:
        return _judge(value.value, send.source, f"{where} = {value.value!r}", inbound)
    return Origin(Verdict.UNKNOWN, "", send.source, f"{where} = {value.expression}")


def _judge(number: str, source: str, detail: str, inbound: dict[str, InboundTrunk]) -> Origin:
    trunk = inbound.get(normalize_number(number))
    if trunk is not None:
        return Origin(Verdict.INBOUND, number, source, detail, trunk)
    return Origin(Verdict.OUTSIDE, number, source, detail)
