"""The outbound-caller's job metadata: the contract between whoever dispatches it and the agent."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.agents.config import DIAL_SETUP_SECONDS, REPRESENTATIVE, Human, HumanLine
from switchboard.errors import SwitchboardError
from switchboard.handoff.outcomes import RingMode
from switchboard.vocabulary import CallMode, Handoff


class JobMetadataError(SwitchboardError):
    """A job's metadata is not the JSON the agent expects."""


class OutboundCallJob(BaseModel):
    """Dial ``number`` through ``sip_trunk_id`` into the agent's room, for ``caller_room``.

    Example: ``{"number": "+15550100200", "sip_trunk_id": "ST_abc", "caller_room": "call-1",
    "caller_identity": "sip_+15551234567", "brief": "Caller qualified. ..."}``
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: str = Field(min_length=3, description="E.164 number or sip: URI.")
    sip_trunk_id: str = Field(min_length=1, description="Outbound trunk id, ST_...")
    brief: str = ""
    caller_room: str = ""
    caller_identity: str = Field(default="", description="Never counted as the human.")
    target: str = Field(default="", description="Transfer target name in the config.")
    display_name: str = ""
    ringing_timeout_seconds: int = Field(default=30, ge=5, le=300)
    human_identity: str = Field(default="", description="Identity for the dialed participant.")
    handoff: Handoff = Field(
        default=Handoff.DIRECT,
        description="Transfer mode, direct: connect on answer; warm: brief the human in "
        "private (the caller is on hold), connect when they accept.",
    )
    decision_seconds: float = Field(default=45, gt=0, le=600)
    mode: CallMode = Field(
        default=CallMode.TRANSFER,
        description="transfer: dial into the caller's room; representative: dial into the "
        "agent's own (new) room, talk, and leave when a representative joins.",
    )
    say: list[str] = Field(
        default_factory=list, description="Representative mode: said to the callee on answer."
    )
    on_no_representative: str = ""
    representative: Human = REPRESENTATIVE
    representative_wait_seconds: float = Field(default=120, gt=0, le=3600)
    traceparent: str = Field(
        default="",
        description="W3C trace context of the call this job serves (switchboard.telemetry).",
    )
    humans: list[HumanLine] = Field(
        default_factory=list,
        description="Warm: several humans to ring (``ring``) instead of ``number``.",
    )
    ring: RingMode = RingMode.SEQUENTIAL
    busy_wait_seconds: float = Field(default=30, ge=0, le=600)
    wait_for_caller: bool = Field(
        default=False,
        description="The number is the caller's own: dial once the caller has left caller_room.",
    )

    @classmethod
    def parse(cls, metadata: str) -> OutboundCallJob:
        """Validate job metadata; ``JobMetadataError`` says which field is wrong."""
        try:
            return cls.model_validate_json(metadata or "{}")
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'metadata'}: {e['msg']}"
                for e in exc.errors()
            )
            raise JobMetadataError(
                f"outbound-caller job metadata is invalid ({problems}). Fix: dispatch it with "
                'JSON like {"number": "+15550100200", "sip_trunk_id": "ST_..."}.'
            ) from None

    def to_metadata(self) -> str:
        return json.dumps(self.model_dump(exclude_defaults=True), separators=(",", ":"))

    @property
    def dial_deadline(self) -> float:
        """Seconds for the whole dial request: the ringing timeout plus a margin for setup."""
        return self.ringing_timeout_seconds + DIAL_SETUP_SECONDS

    def callee_identity(self, job_id: str) -> str:
        return self.human_identity or f"human-{self.target or 'callee'}-{job_id[-8:]}"
