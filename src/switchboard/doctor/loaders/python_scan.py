"""Static scan of Python agent and service code with `ast`: nothing is imported or run.

It records workers and their agent names, calls that may create rooms (CreateDispatch,
CreateSIPParticipant, CreateRoom, access tokens) with the agent list such a room would get, dialled
numbers and the metadata sent to agents (`python_flow.py`), attributes set in code, webhook event
names, room deletions, literal room timeouts and the `LIVEKIT_AGENT_NAME*` environment overrides.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from switchboard.doctor.inventory import (
    Inventory,
    Reference,
    RoomDeletion,
    RoomPath,
    RoomPathKind,
    TimeoutSetting,
    Worker,
    WorkerForm,
)
from switchboard.doctor.loaders.python_ast import (
    DYNAMIC_AGENT,
    SourceTree,
    agent_literal,
    callee,
    has_call,
    keyword,
    literal_int,
    literal_str,
    text,
)
from switchboard.doctor.loaders.python_flow import FlowScanner
from switchboard.errors import Problem

__all__ = [
    "DYNAMIC_AGENT",
    "ENV_AGENT_NAME_VARIABLES",
    "WATCHED_WEBHOOK_EVENTS",
    "scan_python_file",
]

ENV_AGENT_NAME_VARIABLES = frozenset({"LIVEKIT_AGENT_NAME", "LIVEKIT_AGENT_NAME_OVERRIDE"})
WATCHED_WEBHOOK_EVENTS = frozenset({"room_created", "agent_job_started", "agent_job_ended"})
_HANDOFF_MARKERS = frozenset(
    {
        "create_dispatch",
        "create_sip_participant",
        "transfer_sip_participant",
        "move_participant",
        "WarmTransferTask",
        "participant_connected",
        "add_participant_entrypoint",
    }
)
_EXISTING_ROOM_HINTS = ("ctx.room", ".room.name", "room.name")
_ATTRIBUTE_SETTERS = frozenset({"with_attributes", "set_attributes"})
_EVENT_FIELD = re.compile(r"event|type", re.IGNORECASE)
_EVENT_REGISTRATION = re.compile(r"^on$|^on_|event|handler|register|subscribe|listen", re.I)


def scan_python_file(path: Path) -> Inventory:
    """Scan one Python file; a syntax error becomes a problem, not an exception."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        problem = f"Python syntax error: {error.msg}"
        return Inventory(problems=[Problem(str(path), error.lineno or 1, message=problem)])
    return _Scanner(path, tree).scan()


class _Scanner(SourceTree):
    def __init__(self, path: Path, tree: ast.Module) -> None:
        super().__init__(path, tree)
        self.handoff_code = any(callee(call) in _HANDOFF_MARKERS for call in self.calls) or any(
            isinstance(node, ast.Constant) and node.value in _HANDOFF_MARKERS
            for node in ast.walk(tree)
        )

    def scan(self) -> Inventory:
        inventory = Inventory(files=[str(self.path)])
        inventory.workers.extend(self._workers())
        inventory.room_paths.extend(self._room_paths())
        flow = FlowScanner(self.path, self.tree)
        inventory.dial_targets.extend(flow.dial_targets())
        inventory.metadata_sends.extend(flow.metadata_sends())
        inventory.attribute_setters.extend(self._attribute_setters())
        inventory.room_deletions.extend(self._room_deletions())
        inventory.timeouts.extend(self._timeouts())
        strings = sorted(
            (
                n
                for n in ast.walk(self.tree)
                if isinstance(n, ast.Constant) and type(n.value) is str
            ),
            key=lambda n: (n.lineno, n.col_offset),
        )
        for node in strings:
            if node.value in ENV_AGENT_NAME_VARIABLES and self._reads_or_sets_name(node):
                inventory.env_agent_names.append(self.reference(node.value, node))
            elif node.value in WATCHED_WEBHOOK_EVENTS and self._handles_event(node):
                inventory.webhook_events.append(self.reference(node.value, node))
        return inventory

    def _handles_event(self, node: ast.Constant) -> bool:
        """An event name compared with an event field, matched, registered, or a handler key."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Tuple | ast.List | ast.Set):
            node, parent = parent, self.parents.get(parent)  # type: ignore[assignment]
        if isinstance(parent, ast.Compare):
            others = [parent.left, *parent.comparators]
            return any(
                _EVENT_FIELD.search(ast.unparse(other)) for other in others if other is not node
            )
        if isinstance(parent, ast.Call):
            return bool(_EVENT_REGISTRATION.search(callee(parent)))
        if isinstance(parent, ast.Dict):
            return node in parent.keys
        return isinstance(parent, ast.MatchValue)

    def _reads_or_sets_name(self, node: ast.Constant) -> bool:
        """`os.environ[...]`, `getenv(...)`, `environ.get(...)` or a non-empty env dict entry."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Dict):
            value = dict(zip(parent.keys, parent.values, strict=True)).get(node)
            return node in parent.keys and literal_str(value) != ""
        return isinstance(parent, ast.Subscript | ast.Call | ast.Compare)

    # -- workers -------------------------------------------------------------------------------

    def _workers(self) -> Iterator[Worker]:
        legacy = self._run_app_options()
        for call in self.calls:
            name = callee(call)
            if name in ("WorkerOptions", "ServerOptions"):
                form = WorkerForm(name)
                yield self._worker(call, form, legacy_run_app=call in legacy)
            elif name == "rtc_session":
                yield self._worker(call, WorkerForm.RTC_SESSION, legacy_run_app=False)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Attribute) and decorator.attr == "rtc_session":
                        yield Worker(
                            form=WorkerForm.RTC_SESSION,
                            program=str(self.path),
                            source=self.where(decorator),
                        )

    def _worker(self, call: ast.Call, form: WorkerForm, *, legacy_run_app: bool) -> Worker:
        name, dynamic = "", False
        value = keyword(call, "agent_name")
        if value is not None:
            name = literal_str(value) or ""
            dynamic = literal_str(value) is None
        elif any(keyword.arg is None for keyword in call.keywords):
            dynamic = True
        return Worker(
            agent_name=name,
            dynamic_name=dynamic,
            form=form,
            legacy_run_app=legacy_run_app,
            program=str(self.path),
            source=self.where(call),
        )

    def _run_app_options(self) -> set[ast.AST]:
        """The WorkerOptions/ServerOptions calls that reach `cli.run_app(...)`."""
        options: set[ast.AST] = set()
        for call in self.calls:
            if callee(call) != "run_app" or not call.args:
                continue
            argument = self.resolve(call.args[0], call)
            if isinstance(argument, ast.Call) and callee(argument) in (
                "WorkerOptions",
                "ServerOptions",
            ):
                options.add(argument)
        return options

    # -- rooms ---------------------------------------------------------------------------------

    def _room_paths(self) -> Iterator[RoomPath]:
        for call in self.calls:
            name = callee(call)
            if name == "create_dispatch":
                request = self.request(call, "CreateAgentDispatchRequest")
                agent = keyword(request, "agent_name") if request else None
                room = keyword(request, "room") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_DISPATCH,
                    dispatched_agent=agent_literal(agent) if request else None,
                    may_create_room=self._may_create_room(room, call),
                    room_expression=self.describe(room, call),
                    source=self.where(call),
                )
            elif name == "create_sip_participant":
                request = self.request(call, "CreateSIPParticipantRequest")
                room = keyword(request, "room_name") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_SIP_PARTICIPANT,
                    may_create_room=self._may_create_room(room, call),
                    room_expression=self.describe(room, call),
                    source=self.where(call),
                )
            elif name == "create_room":
                request = self.request(call, "CreateRoomRequest")
                agents = keyword(request, "agents") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_ROOM,
                    agents=self.agent_names(agents) if agents is not None else [],
                    room_expression=text(keyword(request, "name") if request else None),
                    source=self.where(call),
                )
            elif name == "AccessToken":
                scope = self.scope(call)
                yield RoomPath(
                    kind=RoomPathKind.TOKEN,
                    agents=self.agent_names(scope),
                    source=self.where(call),
                )
            elif name == "start_agent_room" and len(call.args) + len(call.keywords) >= 3:
                # switchboard.handoff.start_agent_room: CreateRoom with the agent in its list.
                agent = keyword(call, "agent_name") or (
                    call.args[2] if len(call.args) > 2 else None
                )
                room = keyword(call, "room_name") or (call.args[1] if len(call.args) > 1 else None)
                yield RoomPath(
                    kind=RoomPathKind.CREATE_ROOM,
                    agents=[literal_str(self.resolve(agent, call)) or DYNAMIC_AGENT],
                    room_expression=self.describe(room, call),
                    source=self.where(call),
                )

    def _may_create_room(self, room: ast.expr | None, call: ast.Call) -> bool:
        """True when the room name is built right here (a literal, f-string, uuid...).

        False when the room clearly exists (the job's own room, or created first in the same
        function) and when the name comes from elsewhere (a parameter), which we cannot judge.
        """
        resolved = self.resolve(room, call) if room is not None else None
        if resolved is None or any(hint in text(resolved) for hint in _EXISTING_ROOM_HINTS):
            return False
        scope = self.scope(call)
        if has_call(scope, "create_room"):
            return False
        return isinstance(resolved, ast.Constant | ast.JoinedStr | ast.BinOp | ast.Call)

    # -- other facts ---------------------------------------------------------------------------

    def _attribute_setters(self) -> Iterator[Reference]:
        for call in self.calls:
            mapping: ast.expr | None = None
            if callee(call) in _ATTRIBUTE_SETTERS and call.args:
                mapping = call.args[0]
            elif (value := keyword(call, "participant_attributes")) is not None:
                mapping = value
            if isinstance(mapping, ast.Dict):
                for key in mapping.keys:
                    if (name := literal_str(key)) is not None:
                        yield self.reference(name, call)

    def _room_deletions(self) -> Iterator[RoomDeletion]:
        for call in self.calls:
            for flag in ("delete_room_on_close", "delete_room"):
                value = keyword(call, flag)
                if isinstance(value, ast.Constant) and value.value is True:
                    yield self._deletion(f"{callee(call)}({flag}=True)", call)
            if callee(call) == "delete_room":
                yield self._deletion(f"{ast.unparse(call.func)}()", call)

    def _deletion(self, how: str, node: ast.AST) -> RoomDeletion:
        return RoomDeletion(how=how, in_handoff_code=self.handoff_code, source=self.where(node))

    def _timeouts(self) -> Iterator[TimeoutSetting]:
        for call in self.calls:
            if callee(call) not in ("RoomConfiguration", "CreateRoomRequest"):
                continue
            empty = literal_int(keyword(call, "empty_timeout"))
            departure = literal_int(keyword(call, "departure_timeout"))
            if empty is not None or departure is not None:
                yield TimeoutSetting(
                    empty_timeout=empty, departure_timeout=departure, source=self.where(call)
                )

    # -- helpers -------------------------------------------------------------------------------
