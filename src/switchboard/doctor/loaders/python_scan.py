"""Static scan of Python agent and service code with `ast`: nothing is imported or run.

It records workers and their agent names, calls that may create rooms (CreateDispatch,
CreateSIPParticipant, CreateRoom, access tokens) with the agent list such a room would get, dialled
numbers, attributes set in code, webhook event names, room deletions, literal room timeouts and the
`LIVEKIT_AGENT_NAME*` environment overrides.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

from switchboard.doctor.inventory import (
    DialTarget,
    Inventory,
    MetadataOrigin,
    MetadataSend,
    MetadataValue,
    Reference,
    RoomDeletion,
    RoomPath,
    RoomPathKind,
    TimeoutSetting,
    Worker,
    WorkerForm,
)

DYNAMIC_AGENT = "*"
"""Stands for an agent name computed at run time."""

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
        return Inventory(problems=[Reference(name=problem, source=f"{path}:{error.lineno or 1}")])
    return _Scanner(path, tree).scan()


class _Scanner:
    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.calls = sorted(
            (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
            key=lambda call: (call.lineno, call.col_offset),
        )
        self.handoff_code = any(_callee(call) in _HANDOFF_MARKERS for call in self.calls) or any(
            isinstance(node, ast.Constant) and node.value in _HANDOFF_MARKERS
            for node in ast.walk(tree)
        )

    def scan(self) -> Inventory:
        inventory = Inventory(files=[str(self.path)])
        inventory.workers.extend(self._workers())
        inventory.room_paths.extend(self._room_paths())
        inventory.dial_targets.extend(self._dial_targets())
        inventory.metadata_sends.extend(self._metadata_sends())
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
                inventory.env_agent_names.append(self._reference(node.value, node))
            elif node.value in WATCHED_WEBHOOK_EVENTS and self._handles_event(node):
                inventory.webhook_events.append(self._reference(node.value, node))
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
            return bool(_EVENT_REGISTRATION.search(_callee(parent)))
        if isinstance(parent, ast.Dict):
            return node in parent.keys
        return isinstance(parent, ast.MatchValue)

    def _reads_or_sets_name(self, node: ast.Constant) -> bool:
        """`os.environ[...]`, `getenv(...)`, `environ.get(...)` or a non-empty env dict entry."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Dict):
            value = dict(zip(parent.keys, parent.values, strict=True)).get(node)
            return node in parent.keys and _literal_str(value) != ""
        return isinstance(parent, ast.Subscript | ast.Call | ast.Compare)

    # -- workers -------------------------------------------------------------------------------

    def _workers(self) -> Iterator[Worker]:
        legacy = self._run_app_options()
        for call in self.calls:
            name = _callee(call)
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
                            source=self._where(decorator),
                        )

    def _worker(self, call: ast.Call, form: WorkerForm, *, legacy_run_app: bool) -> Worker:
        name, dynamic = "", False
        value = _keyword(call, "agent_name")
        if value is not None:
            name = _literal_str(value) or ""
            dynamic = _literal_str(value) is None
        elif any(keyword.arg is None for keyword in call.keywords):
            dynamic = True
        return Worker(
            agent_name=name,
            dynamic_name=dynamic,
            form=form,
            legacy_run_app=legacy_run_app,
            program=str(self.path),
            source=self._where(call),
        )

    def _run_app_options(self) -> set[ast.AST]:
        """The WorkerOptions/ServerOptions calls that reach `cli.run_app(...)`."""
        options: set[ast.AST] = set()
        for call in self.calls:
            if _callee(call) != "run_app" or not call.args:
                continue
            argument = self._resolve(call.args[0], call)
            if isinstance(argument, ast.Call) and _callee(argument) in (
                "WorkerOptions",
                "ServerOptions",
            ):
                options.add(argument)
        return options

    # -- rooms ---------------------------------------------------------------------------------

    def _room_paths(self) -> Iterator[RoomPath]:
        for call in self.calls:
            name = _callee(call)
            if name == "create_dispatch":
                request = self._request(call, "CreateAgentDispatchRequest")
                agent = _keyword(request, "agent_name") if request else None
                room = _keyword(request, "room") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_DISPATCH,
                    dispatched_agent=_agent_literal(agent) if request else None,
                    may_create_room=self._may_create_room(room, call),
                    room_expression=self._describe(room, call),
                    source=self._where(call),
                )
            elif name == "create_sip_participant":
                request = self._request(call, "CreateSIPParticipantRequest")
                room = _keyword(request, "room_name") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_SIP_PARTICIPANT,
                    may_create_room=self._may_create_room(room, call),
                    room_expression=self._describe(room, call),
                    source=self._where(call),
                )
            elif name == "create_room":
                request = self._request(call, "CreateRoomRequest")
                agents = _keyword(request, "agents") if request else None
                yield RoomPath(
                    kind=RoomPathKind.CREATE_ROOM,
                    agents=self._agent_names(agents) if agents is not None else [],
                    room_expression=_text(_keyword(request, "name") if request else None),
                    source=self._where(call),
                )
            elif name == "AccessToken":
                scope = self._scope(call)
                yield RoomPath(
                    kind=RoomPathKind.TOKEN,
                    agents=self._agent_names(scope),
                    source=self._where(call),
                )

    def _describe(self, room: ast.expr | None, call: ast.AST) -> str:
        """The expression, with the value it was assigned when it is a local name."""
        resolved = self._resolve(room, call)
        if isinstance(room, ast.Name) and resolved is not room:
            return f"{room.id} = {_text(resolved)}"
        return _text(room)

    def _may_create_room(self, room: ast.expr | None, call: ast.Call) -> bool:
        """True when the room name is built right here (a literal, f-string, uuid...).

        False when the room clearly exists (the job's own room, or created first in the same
        function) and when the name comes from elsewhere (a parameter), which we cannot judge.
        """
        resolved = self._resolve(room, call) if room is not None else None
        if resolved is None or any(hint in _text(resolved) for hint in _EXISTING_ROOM_HINTS):
            return False
        scope = self._scope(call)
        if _has_call(scope, "create_room"):
            return False
        return isinstance(resolved, ast.Constant | ast.JoinedStr | ast.BinOp | ast.Call)

    def _agent_names(self, node: ast.AST) -> list[str]:
        """Agent names of RoomAgentDispatch(...) calls under `node` (`*` when not literal)."""
        names: list[str] = []
        for child in ast.walk(node):
            if isinstance(child, ast.Call) and _callee(child) == "RoomAgentDispatch":
                names.append(_agent_literal(_keyword(child, "agent_name")) or DYNAMIC_AGENT)
            elif isinstance(child, ast.Call) and _callee(child) == "RoomConfiguration":
                agents = _keyword(child, "agents")
                if agents is not None and not _has_call(agents, "RoomAgentDispatch"):
                    names.append(DYNAMIC_AGENT)
        if not names and isinstance(node, ast.expr) and not _is_empty_literal(node):
            names.append(DYNAMIC_AGENT)
        return names

    # -- other facts ---------------------------------------------------------------------------

    def _dial_targets(self) -> Iterator[DialTarget]:
        for call in self.calls:
            if _callee(call) != "create_sip_participant":
                continue
            request = self._request(call, "CreateSIPParticipantRequest")
            if request is None:
                continue
            target = _keyword(request, "sip_call_to")
            trunk = _literal_str(self._resolve(_keyword(request, "sip_trunk_id"), request))
            resolved = self._resolve(target, request)
            origin_field = self._metadata_field(target, request)
            yield DialTarget(
                number=_literal_str(resolved) or "",
                trunk_id=trunk or "",
                expression=self._describe(target, request),
                metadata_origin=origin_field[0] if origin_field else None,
                metadata_field=origin_field[1] if origin_field else "",
                program=str(self.path),
                source=self._where(call),
            )

    def _metadata_field(
        self, node: ast.expr | None, at: ast.AST
    ) -> tuple[MetadataOrigin, str] | None:
        """`(origin, field)` when `node` is a field read from the job's or room's metadata.

        Follows local assignments: `info = json.loads(ctx.job.metadata)`, then `info["phone"]`,
        `info.get("phone")` or `Model.model_validate_json(ctx.job.metadata).phone`.
        """
        value = self._resolve(node, at)
        field: str | None = None
        base: ast.expr | None = None
        if isinstance(value, ast.Subscript):
            field, base = _literal_str(value.slice), value.value
        elif isinstance(value, ast.Call) and _callee(value) == "get" and value.args:
            if isinstance(value.func, ast.Attribute):
                field, base = _literal_str(value.args[0]), value.func.value
        elif isinstance(value, ast.Attribute):
            field, base = value.attr, value.value
        if field is None or base is None:
            return None
        source = _text(self._resolve(base, at))
        if "metadata" not in source:
            return None
        origin = MetadataOrigin.ROOM if "room.metadata" in source else MetadataOrigin.JOB
        return origin, field

    def _metadata_sends(self) -> Iterator[MetadataSend]:
        for call in self.calls:
            name = _callee(call)
            if name in ("CreateAgentDispatchRequest", "RoomAgentDispatch"):
                origin = MetadataOrigin.JOB
                agents = [_agent_literal(_keyword(call, "agent_name")) or DYNAMIC_AGENT]
            elif name == "CreateRoomRequest":
                origin = MetadataOrigin.ROOM
                listed = _keyword(call, "agents")
                agents = self._agent_names(listed) if listed is not None else []
                agents = agents or [""]
            else:
                continue
            metadata = _keyword(call, "metadata")
            if metadata is None:
                continue
            yield MetadataSend(
                agents=agents,
                origin=origin,
                fields=self._metadata_fields(metadata, call),
                source=self._where(call),
            )

    def _metadata_fields(self, node: ast.expr, at: ast.AST) -> dict[str, MetadataValue] | None:
        """The fields of a metadata string: `json.dumps({...})`, a JSON literal, or a model."""
        value = self._resolve(node, at)
        if (text := _literal_str(value)) is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                return None
            if not isinstance(parsed, dict):
                return None
            return {
                str(key): MetadataValue(value=item if isinstance(item, str) else None)
                for key, item in parsed.items()
            }
        pairs: list[tuple[str | None, ast.expr]] = []
        if isinstance(value, ast.Call) and _callee(value) == "dumps" and value.args:
            document = self._resolve(value.args[0], at)
            if isinstance(document, ast.Dict):
                pairs = [
                    (_literal_str(key), item)
                    for key, item in zip(document.keys, document.values, strict=True)
                ]
            elif isinstance(document, ast.Call) and _callee(document) == "dict":
                pairs = [(keyword.arg, keyword.value) for keyword in document.keywords]
        elif isinstance(value, ast.Call) and _callee(value) == "model_dump_json":
            model = value.func.value if isinstance(value.func, ast.Attribute) else None
            model = self._resolve(model, at)
            if isinstance(model, ast.Call):
                pairs = [(keyword.arg, keyword.value) for keyword in model.keywords]
        if not pairs or any(key is None for key, _ in pairs):
            return None
        return {key: self._metadata_value(item, at) for key, item in pairs if key is not None}

    def _metadata_value(self, node: ast.expr, at: ast.AST) -> MetadataValue:
        resolved = self._resolve(node, at)
        return MetadataValue(value=_literal_str(resolved), expression=self._describe(node, at))

    def _attribute_setters(self) -> Iterator[Reference]:
        for call in self.calls:
            mapping: ast.expr | None = None
            if _callee(call) in _ATTRIBUTE_SETTERS and call.args:
                mapping = call.args[0]
            elif (value := _keyword(call, "participant_attributes")) is not None:
                mapping = value
            if isinstance(mapping, ast.Dict):
                for key in mapping.keys:
                    if (name := _literal_str(key)) is not None:
                        yield self._reference(name, call)

    def _room_deletions(self) -> Iterator[RoomDeletion]:
        for call in self.calls:
            for flag in ("delete_room_on_close", "delete_room"):
                value = _keyword(call, flag)
                if isinstance(value, ast.Constant) and value.value is True:
                    yield self._deletion(f"{_callee(call)}({flag}=True)", call)
            if _callee(call) == "delete_room":
                yield self._deletion(f"{ast.unparse(call.func)}()", call)

    def _deletion(self, how: str, node: ast.AST) -> RoomDeletion:
        return RoomDeletion(how=how, in_handoff_code=self.handoff_code, source=self._where(node))

    def _timeouts(self) -> Iterator[TimeoutSetting]:
        for call in self.calls:
            if _callee(call) not in ("RoomConfiguration", "CreateRoomRequest"):
                continue
            empty = _literal_int(_keyword(call, "empty_timeout"))
            departure = _literal_int(_keyword(call, "departure_timeout"))
            if empty is not None or departure is not None:
                yield TimeoutSetting(
                    empty_timeout=empty, departure_timeout=departure, source=self._where(call)
                )

    # -- helpers -------------------------------------------------------------------------------

    def _request(self, call: ast.Call, request_type: str) -> ast.Call | None:
        """The request object passed to an API call, following one local assignment."""
        argument: ast.expr | None = call.args[0] if call.args else None
        if argument is None and call.keywords:
            argument = call.keywords[0].value
        resolved = self._resolve(argument, call) if argument is not None else None
        if isinstance(resolved, ast.Call) and _callee(resolved) == request_type:
            return resolved
        return None

    def _resolve(self, node: ast.expr | None, at: ast.AST, depth: int = 3) -> ast.expr | None:
        """Follow `name = value` in the enclosing scope (then the module) a few times."""
        if not isinstance(node, ast.Name) or depth == 0:
            return node
        for scope in (self._scope(at), self.tree):
            for child in ast.walk(scope):
                if isinstance(child, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == node.id
                    for target in child.targets
                ):
                    return self._resolve(child.value, child, depth - 1)
                if (
                    isinstance(child, ast.AnnAssign)
                    and isinstance(child.target, ast.Name)
                    and child.target.id == node.id
                    and child.value is not None
                ):
                    return self._resolve(child.value, child, depth - 1)
        return node

    def _scope(self, node: ast.AST) -> ast.AST:
        current: ast.AST | None = node
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(current)
        return self.tree

    def _reference(self, name: str, node: ast.AST) -> Reference:
        return Reference(name=name, source=self._where(node))

    def _where(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 1)}"


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _literal_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal_int(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return int(node.value)
    return None


def _agent_literal(node: ast.expr | None) -> str | None:
    """The literal agent name, "" when absent, None when computed at run time."""
    if node is None:
        return ""
    return _literal_str(node)


def _has_call(node: ast.AST, name: str) -> bool:
    return any(isinstance(child, ast.Call) and _callee(child) == name for child in ast.walk(node))


def _is_empty_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.List | ast.Tuple) and not node.elts


def _text(node: ast.AST | None) -> str:
    return ast.unparse(node) if node is not None else ""
