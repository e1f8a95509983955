"""Where dialled numbers come from, in Python: dials and the metadata sent to agents.

Records each `create_sip_participant` (and Switchboard's `dial`) with its literal number or the
job/room metadata field it reads, and each metadata sent to agents (`CreateAgentDispatchRequest`,
`RoomAgentDispatch`, `CreateRoomRequest`, Switchboard's `start_agent_room`) with its fields, for
`checks/dataflow.py` to match.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator

from switchboard.doctor.inventory import DialTarget, MetadataOrigin, MetadataSend, MetadataValue
from switchboard.doctor.loaders.python_ast import (
    DYNAMIC_AGENT,
    SourceTree,
    agent_literal,
    callee,
    keyword,
    literal_str,
    text,
)


class FlowScanner(SourceTree):
    """Dials and metadata sends of one Python file."""

    def dial_targets(self) -> Iterator[DialTarget]:
        for call in self.calls:
            name = callee(call)
            if name == "create_sip_participant":
                request = self.request(call, "CreateSIPParticipantRequest")
                if request is None:
                    continue
                target, trunk, at = (
                    keyword(request, "sip_call_to"),
                    keyword(request, "sip_trunk_id"),
                    request,
                )
            elif name == "dial" and keyword(call, "number") is not None:
                # switchboard.handoff.dial(lkapi, trunk_id=..., number=..., room_name=...)
                target, trunk, at = keyword(call, "number"), keyword(call, "trunk_id"), call
            else:
                continue
            origin_field = self._metadata_field(target, at)
            yield DialTarget(
                number=literal_str(self.resolve(target, at)) or "",
                trunk_id=literal_str(self.resolve(trunk, at)) or "",
                expression=self.describe(target, at),
                metadata_origin=origin_field[0] if origin_field else None,
                metadata_field=origin_field[1] if origin_field else "",
                program=str(self.path),
                source=self.where(call),
            )

    def _metadata_field(
        self, node: ast.expr | None, at: ast.AST
    ) -> tuple[MetadataOrigin, str] | None:
        """`(origin, field)` when `node` is a field read from the job's or room's metadata.

        Follows local assignments: `info = json.loads(ctx.job.metadata)`, then `info["phone"]`,
        `info.get("phone")` or `Model.model_validate_json(ctx.job.metadata).phone`.
        """
        value = self.resolve(node, at)
        field: str | None = None
        base: ast.expr | None = None
        if isinstance(value, ast.Subscript):
            field, base = literal_str(value.slice), value.value
        elif isinstance(value, ast.Call) and callee(value) == "get" and value.args:
            if isinstance(value.func, ast.Attribute):
                field, base = literal_str(value.args[0]), value.func.value
        elif isinstance(value, ast.Attribute):
            field, base = value.attr, value.value
        if field is None or base is None:
            return None
        source = text(self.resolve(base, at))
        if "metadata" not in source:
            return None
        origin = MetadataOrigin.ROOM if "room.metadata" in source else MetadataOrigin.JOB
        return origin, field

    def metadata_sends(self) -> Iterator[MetadataSend]:
        for call in self.calls:
            name = callee(call)
            metadata = keyword(call, "metadata")
            if name in ("CreateAgentDispatchRequest", "RoomAgentDispatch"):
                origin = MetadataOrigin.JOB
                agents = [agent_literal(keyword(call, "agent_name")) or DYNAMIC_AGENT]
            elif name == "CreateRoomRequest":
                origin = MetadataOrigin.ROOM
                listed = keyword(call, "agents")
                agents = (self.agent_names(listed) if listed is not None else []) or [""]
            elif name == "start_agent_room":
                # switchboard.handoff.start_agent_room(lkapi, room_name, agent_name, metadata)
                origin = MetadataOrigin.JOB
                agent = keyword(call, "agent_name") or _argument(call, 2)
                agents = [literal_str(self.resolve(agent, call)) or DYNAMIC_AGENT]
                metadata = metadata or _argument(call, 3)
            else:
                continue
            if metadata is None:
                continue
            yield MetadataSend(
                agents=agents,
                origin=origin,
                fields=self._metadata_fields(metadata, call),
                source=self.where(call),
            )

    def _metadata_fields(self, node: ast.expr, at: ast.AST) -> dict[str, MetadataValue] | None:
        """The fields of metadata: `json.dumps({...})`, a dict, a JSON literal, or a model."""
        value = self.resolve(node, at)
        if (literal := literal_str(value)) is not None:
            try:
                parsed = json.loads(literal)
            except ValueError:
                return None
            if not isinstance(parsed, dict):
                return None
            return {
                str(key): MetadataValue(value=item if isinstance(item, str) else None)
                for key, item in parsed.items()
            }
        if isinstance(value, ast.Call) and callee(value) == "dumps" and value.args:
            value = self.resolve(value.args[0], at)
        pairs: list[tuple[str | None, ast.expr]] = []
        if isinstance(value, ast.Dict):
            pairs = [
                (literal_str(key), item) for key, item in zip(value.keys, value.values, strict=True)
            ]
        elif isinstance(value, ast.Call) and callee(value) == "dict":
            pairs = [(argument.arg, argument.value) for argument in value.keywords]
        elif isinstance(value, ast.Call) and callee(value) == "model_dump_json":
            model = value.func.value if isinstance(value.func, ast.Attribute) else None
            model = self.resolve(model, at)
            if isinstance(model, ast.Call):
                pairs = [(argument.arg, argument.value) for argument in model.keywords]
        if not pairs or any(key is None for key, _ in pairs):
            return None
        return {key: self._metadata_value(item, at) for key, item in pairs if key is not None}

    def _metadata_value(self, node: ast.expr, at: ast.AST) -> MetadataValue:
        resolved = self.resolve(node, at)
        return MetadataValue(value=literal_str(resolved), expression=self.describe(node, at))


def _argument(call: ast.Call, index: int) -> ast.expr | None:
    return call.args[index] if len(call.args) > index else None
