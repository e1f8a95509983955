"""SIP trunks and dispatch rules as `lk`, the LiveKit dashboard or the API export them.

Accepts camelCase or snake_case, one object, a list, or `{"items": [...]}`, and the `lk` create-file
wrappers (`{"trunk": {...}}`, `{"dispatch_rule": {...}}`). The kind of each object is recognised by
its fields: a dispatch rule has `rule`/`trunk_ids`/`sip_dispatch_rule_id`, an outbound trunk has an
`address`, anything else with trunk fields is an inbound trunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from switchboard.doctor.inventory import (
    DispatchRule,
    InboundTrunk,
    Inventory,
    OutboundTrunk,
    RoomConfig,
)
from switchboard.errors import Problem

# Keys whose values are user data maps: their keys must keep their spelling.
_USER_MAPS = frozenset({"headers", "headers_to_attributes", "attributes_to_headers", "attributes"})
_WRAPPERS = {
    "trunk": None,
    "inbound_trunk": "inbound",
    "outbound_trunk": "outbound",
    "sip_trunk": None,
    "dispatch_rule": "rule",
    "sip_dispatch_rule": "rule",
}
_TRUNK_FIELDS = frozenset(
    {"sip_trunk_id", "numbers", "allowed_addresses", "allowed_numbers", "auth_username"}
)
_RULE_FIELDS = frozenset({"rule", "sip_dispatch_rule_id", "trunk_ids", "room_config"})
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def load_export_file(path: Path, *, explicit: bool = True) -> Inventory:
    """Read a JSON export of trunks and dispatch rules into an inventory."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problem = f"not valid JSON ({error.msg} at line {error.lineno})"
        return Inventory(problems=[Problem(str(path), error.lineno, message=problem)])
    lines = _object_lines(text)
    inventory = load_export_objects(
        ((obj, f"{path}:{lines.get(index, 1)}") for index, obj in enumerate(_objects(data))),
    )
    inventory.files.append(str(path))
    nothing = not (
        inventory.inbound_trunks or inventory.outbound_trunks or inventory.dispatch_rules
    )
    if explicit and nothing:
        problem = "no SIP trunk or dispatch rule recognised in this JSON file"
        inventory.problems.append(Problem(str(path), 1, message=problem))
    return inventory


def load_export_objects(objects: Iterator[tuple[Any, str]]) -> Inventory:
    """Classify already-parsed export objects (`(object, source)` pairs) into an inventory."""
    inventory = Inventory()
    for raw, source in objects:
        if not isinstance(raw, Mapping):
            continue
        kind, obj = _classify(_snake_keys(raw))
        if kind == "rule":
            inventory.dispatch_rules.append(dispatch_rule_from_dict(obj, source))
        elif kind == "outbound":
            inventory.outbound_trunks.append(outbound_trunk_from_dict(obj, source))
        elif kind == "inbound":
            inventory.inbound_trunks.append(inbound_trunk_from_dict(obj, source))
    return inventory


def inbound_trunk_from_dict(obj: Mapping[str, Any], source: str) -> InboundTrunk:
    """An inbound trunk from a snake_case SIPInboundTrunkInfo mapping."""
    return InboundTrunk(
        trunk_id=_text(obj.get("sip_trunk_id")),
        name=_text(obj.get("name")),
        metadata=_text(obj.get("metadata")),
        numbers=_texts(obj.get("numbers")),
        allowed_addresses=_texts(obj.get("allowed_addresses")),
        allowed_numbers=_texts(obj.get("allowed_numbers")),
        headers_to_attributes=_text_map(obj.get("headers_to_attributes")),
        include_headers=_text(obj.get("include_headers")),
        source=source,
    )


def outbound_trunk_from_dict(obj: Mapping[str, Any], source: str) -> OutboundTrunk:
    """An outbound trunk from a snake_case SIPOutboundTrunkInfo mapping."""
    return OutboundTrunk(
        trunk_id=_text(obj.get("sip_trunk_id")),
        name=_text(obj.get("name")),
        metadata=_text(obj.get("metadata")),
        address=_text(obj.get("address")),
        numbers=_texts(obj.get("numbers")),
        headers_to_attributes=_text_map(obj.get("headers_to_attributes")),
        source=source,
    )


def dispatch_rule_from_dict(obj: Mapping[str, Any], source: str) -> DispatchRule:
    """A dispatch rule from a snake_case SIPDispatchRuleInfo mapping."""
    rule = _mapping(obj.get("rule"))
    kind, details = "", _mapping(None)
    for key, value in rule.items():
        if key.startswith("dispatch_rule_") and isinstance(value, Mapping):
            kind, details = key.removeprefix("dispatch_rule_"), value
    room_config = obj.get("room_config")
    return DispatchRule(
        rule_id=_text(obj.get("sip_dispatch_rule_id")),
        name=_text(obj.get("name")),
        trunk_ids=_texts(obj.get("trunk_ids")),
        kind=kind,
        room_prefix=_text(details.get("room_prefix")),
        room_name=_text(details.get("room_name")),
        attributes=_text_map(obj.get("attributes")),
        room_config=_room_config(room_config) if isinstance(room_config, Mapping) else None,
        room_preset=_text(obj.get("room_preset")),
        hide_phone_number=bool(obj.get("hide_phone_number", False)),
        source=source,
    )


def _room_config(obj: Mapping[str, Any]) -> RoomConfig:
    agents = obj.get("agents")
    agents = agents if isinstance(agents, list) else []
    names = [_text(agent.get("agent_name")) for agent in agents if isinstance(agent, Mapping)]
    return RoomConfig(
        agents=[name for name in names if name],
        empty_timeout=_number(obj.get("empty_timeout")),
        departure_timeout=_number(obj.get("departure_timeout")),
    )


def _classify(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    hint: str | None = None
    for wrapper, wrapper_hint in _WRAPPERS.items():
        inner = obj.get(wrapper)
        if isinstance(inner, Mapping):
            outer = {key: value for key, value in obj.items() if key != wrapper}
            obj, hint = {**outer, **inner}, wrapper_hint
            break
    kind_field = _text(obj.get("kind")).upper()
    if hint == "rule" or _RULE_FIELDS & obj.keys():
        return "rule", obj
    if hint == "outbound" or "OUTBOUND" in kind_field or "address" in obj:
        return "outbound", obj
    if hint == "inbound" or "INBOUND" in kind_field or _TRUNK_FIELDS & obj.keys():
        return "inbound", obj
    return None, obj


def _objects(data: Any) -> list[Any]:
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        return list(data["items"])
    if isinstance(data, list):
        return data
    return [data]


def _object_lines(text: str) -> dict[int, int]:
    """1-based line of each top-level object, by index as `_objects` orders them (best effort)."""
    try:
        # JSON is YAML apart from tab indentation; tabs outside strings are plain whitespace.
        node = yaml.compose(text.replace("\t", " "))
    except yaml.YAMLError:
        return {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "items" and isinstance(value, yaml.SequenceNode):
                node = value
                break
    if isinstance(node, yaml.SequenceNode):
        return {index: item.start_mark.line + 1 for index, item in enumerate(node.value)}
    return {0: node.start_mark.line + 1} if node is not None else {}


def _snake_keys(value: Any, *, user_map: bool = False) -> Any:
    if isinstance(value, Mapping):
        converted: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key) if user_map else _snake(str(key))
            converted[name] = _snake_keys(item, user_map=name in _USER_MAPS and not user_map)
        return converted
    if isinstance(value, list):
        return [_snake_keys(item) for item in value]
    return value


def _snake(key: str) -> str:
    return _CAMEL.sub(r"_\1", key).lower()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): str(item) for key, item in value.items()}


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
