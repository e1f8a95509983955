"""The Inventory: what the doctor knows about a deployment, from files, the server and a probe.

Every item carries its `source`: `path:line` for files, `server: <object>` for the live server.
Loaders produce partial inventories; `Inventory.merge` joins them; checks only read them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from switchboard.errors import Problem


class Reference(BaseModel):
    """A name seen somewhere: an agent name, an attribute, a webhook event, an env variable."""

    name: str
    source: str


class RoomConfig(BaseModel):
    """The parts of a LiveKit RoomConfiguration the checks need."""

    agents: list[str] = Field(default_factory=list)
    empty_timeout: int = 0
    departure_timeout: int = 0


class InboundTrunk(BaseModel):
    """A SIP inbound trunk (SIPInboundTrunkInfo)."""

    trunk_id: str = ""
    name: str = ""
    metadata: str = ""
    numbers: list[str] = Field(default_factory=list)
    allowed_addresses: list[str] = Field(default_factory=list)
    allowed_numbers: list[str] = Field(default_factory=list)
    headers_to_attributes: dict[str, str] = Field(default_factory=dict)
    include_headers: str = ""
    source: str

    @property
    def label(self) -> str:
        """`ST_x ("name")`, for evidence lines."""
        return _label("inbound trunk", self.trunk_id, self.name)


class OutboundTrunk(BaseModel):
    """A SIP outbound trunk (SIPOutboundTrunkInfo)."""

    trunk_id: str = ""
    name: str = ""
    metadata: str = ""
    address: str = ""
    numbers: list[str] = Field(default_factory=list)
    headers_to_attributes: dict[str, str] = Field(default_factory=dict)
    source: str

    @property
    def label(self) -> str:
        """`outbound trunk ST_x ("name")`, for evidence lines."""
        return _label("outbound trunk", self.trunk_id, self.name)


class DispatchRule(BaseModel):
    """A SIP dispatch rule (SIPDispatchRuleInfo)."""

    rule_id: str = ""
    name: str = ""
    trunk_ids: list[str] = Field(default_factory=list)
    kind: str = ""
    room_prefix: str = ""
    room_name: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)
    room_config: RoomConfig | None = None
    room_preset: str = ""
    hide_phone_number: bool = False
    source: str

    @property
    def label(self) -> str:
        """`dispatch rule SDR_x ("name")`, for evidence lines."""
        return _label("dispatch rule", self.rule_id, self.name)

    @property
    def agents(self) -> list[str]:
        """Agent names the rule's room_config dispatches (empty: the automatic dispatch)."""
        return self.room_config.agents if self.room_config else []


class RulesFile(BaseModel):
    """Facts read from a Switchboard rules file (top-level `version:` and `rules:`)."""

    source: str
    agents: list[Reference] = Field(default_factory=list)
    attributes: list[Reference] = Field(default_factory=list)


class WorkerForm(StrEnum):
    """How an agent program declares its worker."""

    WORKER_OPTIONS = "WorkerOptions"
    SERVER_OPTIONS = "ServerOptions"
    RTC_SESSION = "rtc_session"
    SWITCHBOARD_AGENT = "switchboard agent"


class Worker(BaseModel):
    """An agent worker declared in source code."""

    agent_name: str = ""
    dynamic_name: bool = False
    form: WorkerForm
    legacy_run_app: bool = False
    program: str
    source: str

    @property
    def unnamed(self) -> bool:
        """True when the worker registers without an agent name (automatic dispatch)."""
        return not self.agent_name and not self.dynamic_name


class RoomPathKind(StrEnum):
    """Code that can bring a room into existence."""

    CREATE_DISPATCH = "CreateDispatch"
    CREATE_SIP_PARTICIPANT = "CreateSIPParticipant"
    CREATE_ROOM = "CreateRoom"
    TOKEN = "access token"


class RoomPath(BaseModel):
    """A call in source code that may create a room, with the agent list that room would get."""

    kind: RoomPathKind
    agents: list[str] = Field(default_factory=list)
    dispatched_agent: str | None = None
    may_create_room: bool = True
    room_expression: str = ""
    source: str

    @property
    def has_agent_list(self) -> bool:
        """True when a room created here gets an explicit agent list."""
        return bool(self.agents)


class MetadataOrigin(StrEnum):
    """Where an agent reads metadata from: its job (the dispatch) or its room."""

    JOB = "job"
    ROOM = "room"


class DialTarget(BaseModel):
    """A CreateSIPParticipant call: the literal number, or where the number comes from."""

    number: str = ""
    trunk_id: str = ""
    expression: str = ""
    metadata_field: str = ""
    metadata_origin: MetadataOrigin | None = None
    program: str = ""
    source: str

    @property
    def literal(self) -> bool:
        """True when the dialled number is written in the code."""
        return bool(self.number)


class MetadataValue(BaseModel):
    """One field of metadata sent to an agent: a literal, or the expression that computes it."""

    value: str | None = None
    expression: str = ""

    @property
    def is_inbound_number(self) -> bool:
        """True when the expression is the number the caller dialled (this project's own)."""
        return any(hint in self.expression for hint in _INBOUND_NUMBER_HINTS)


_INBOUND_NUMBER_HINTS = ("sip.trunkPhoneNumber", "trunk_phone_number", "trunkPhoneNumber")


class MetadataSend(BaseModel):
    """Metadata placed in a dispatch (job) or a room, for the agents that will read it.

    `fields` is None when the metadata could not be read statically.
    """

    agents: list[str]
    origin: MetadataOrigin
    fields: dict[str, MetadataValue] | None = None
    source: str


class InlineIgnore(BaseModel):
    """A `# switchboard: ignore[SB202]` comment: the codes it silences on its line (or the next)."""

    codes: list[str]
    source: str


class HandlerIssue(StrEnum):
    """Mistakes in a JS/TS LiveKit webhook handler."""

    ROOM_FROM_DATA = "event.data.room"
    RECEIVE_NOT_AWAITED = "receive() not awaited"
    CLIENT_WITHOUT_CREDENTIALS = "client without key and secret"


class RoomDeletion(BaseModel):
    """Code that deletes the room: `delete_room_on_close=True` or a `delete_room()` call."""

    how: str
    in_handoff_code: bool
    source: str


class TimeoutSetting(BaseModel):
    """Literal room timeouts set in source code (RoomConfiguration, CreateRoomRequest)."""

    empty_timeout: int | None = None
    departure_timeout: int | None = None
    source: str


class ServerDispatch(BaseModel):
    """An agent dispatch listed by the server for a room; `jobs` is how many workers took it."""

    dispatch_id: str = ""
    agent_name: str = ""
    room: str = ""
    jobs: int | None = None


class ServerParticipant(BaseModel):
    """A participant of a live room, as far as the checks care."""

    identity: str
    kind: str = "standard"
    agent_name: str = ""
    switchboard_agent: str = ""


class ServerRoom(BaseModel):
    """A room that exists on the server right now."""

    name: str
    sid: str = ""
    empty_timeout: int = 0
    departure_timeout: int = 0
    num_participants: int = 0
    age_seconds: float | None = None
    dispatches: list[ServerDispatch] = Field(default_factory=list)
    participants: list[ServerParticipant] | None = None
    source: str


class ProbeAgent(BaseModel):
    """An agent participant that joined the probe room."""

    identity: str
    agent_name: str = ""


class ProbeResult(BaseModel):
    """What happened in a throw-away room created without an agent list."""

    room: str
    waited_seconds: float
    agents: list[ProbeAgent] = Field(default_factory=list)
    dispatches: list[ServerDispatch] = Field(default_factory=list)
    source: str


class Limits(BaseModel):
    """Thresholds for checks that compare against what a call flow needs."""

    min_departure_timeout: int = 10
    min_empty_timeout: int = 60


class Inventory(BaseModel):
    """Everything loaded from files, the server and the probe, ready for the checks."""

    inbound_trunks: list[InboundTrunk] = Field(default_factory=list)
    outbound_trunks: list[OutboundTrunk] = Field(default_factory=list)
    dispatch_rules: list[DispatchRule] = Field(default_factory=list)
    rules_files: list[RulesFile] = Field(default_factory=list)
    workers: list[Worker] = Field(default_factory=list)
    room_paths: list[RoomPath] = Field(default_factory=list)
    dial_targets: list[DialTarget] = Field(default_factory=list)
    metadata_sends: list[MetadataSend] = Field(default_factory=list)
    attribute_setters: list[Reference] = Field(default_factory=list)
    env_agent_names: list[Reference] = Field(default_factory=list)
    webhook_events: list[Reference] = Field(default_factory=list)
    room_deletions: list[RoomDeletion] = Field(default_factory=list)
    session_enders: list[Reference] = Field(default_factory=list)
    timeouts: list[TimeoutSetting] = Field(default_factory=list)
    handler_issues: list[Reference] = Field(default_factory=list)
    inline_ignores: list[InlineIgnore] = Field(default_factory=list)
    server_rooms: list[ServerRoom] = Field(default_factory=list)
    server_url: str | None = None
    probe: ProbeResult | None = None
    files: list[str] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)

    def merge(self, *others: Inventory) -> Inventory:
        """This inventory plus the items of `others`; a later server URL, probe or limits wins."""
        merged = self.model_copy(deep=True)
        for other in others:
            for field in Inventory.model_fields:
                value = getattr(other, field)
                if isinstance(value, list):
                    getattr(merged, field).extend(value)
                elif field == "limits":
                    if "limits" in other.model_fields_set:
                        merged.limits = value
                elif value is not None:
                    setattr(merged, field, value)
        return merged

    @property
    def server_read(self) -> bool:
        """True when the SIP objects came from the live server (so the view is complete)."""
        return self.server_url is not None

    @property
    def unnamed_workers(self) -> list[Worker]:
        """Workers that register without an agent name."""
        return [worker for worker in self.workers if worker.unnamed]

    def workers_of(self, program: str) -> list[Worker]:
        """The workers declared in one program (file)."""
        return [worker for worker in self.workers if worker.program == program]

    @property
    def registered_agent_names(self) -> set[str]:
        """Literal agent names that some scanned worker registers."""
        return {worker.agent_name for worker in self.workers if worker.agent_name}


def _label(kind: str, object_id: str, name: str) -> str:
    parts = [kind]
    if object_id:
        parts.append(object_id)
    if name:
        parts.append(f'("{name}")')
    return " ".join(parts)
