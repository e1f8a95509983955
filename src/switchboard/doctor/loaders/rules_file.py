"""Switchboard rules files, read straight from the YAML mapping.

The doctor does not import the rules engine: it only needs the agent names a rules file dispatches
and the participant attributes its conditions read. A rules file is a YAML mapping with top-level
`version:` and `rules:` keys (schema: `switchboard.rules.models`). Agent names are the entries of
`dispatch:` lists (`- qualifier` or `- agent: qualifier`) under `then:`/`default:`, plus any
`agent`/`agent_name` value. Attributes are the field paths inside `when:` conditions
(`participant.attributes[x]`, `participant.attributes.x`, `sip.x`), a `percentage.key`, and the
generic forms `attribute: x` and `attributes: {x: ...}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from switchboard.doctor.inventory import Inventory, Reference, RulesFile

_AGENT_KEYS = frozenset({"agent", "agent_name", "agentName"})
_AGENT_LIST_KEYS = frozenset({"agents", "dispatch"})
_CONDITION_KEYS = frozenset(
    {"when", "if", "unless", "match", "matches", "condition", "conditions", "where", "all", "any"}
)
_ATTRIBUTE_NAME_KEYS = frozenset({"attribute", "attr", "attribute_name"})
_FIELD = re.compile(
    r"""(?:attributes(?:\.([\w\-.]+)|\[\s*['"]?([^'"\]]+?)['"]?\s*\])|^(sip\.[\w\-.]+)$)"""
)


def is_rules_document(text: str) -> bool:
    """True when `text` is a YAML mapping with top-level `version` and `rules` keys."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and "version" in data and "rules" in data


def load_rules_file(path: Path) -> Inventory:
    """Read the agent names and condition attributes of a Switchboard rules file."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        line = _error_line(error)
        return Inventory(
            problems=[Reference(name=f"not valid YAML: {error}", source=f"{path}:{line}")]
        )
    facts = RulesFile(source=f"{path}:1")
    for section in ("rules", "default"):
        node = _mapping_value(root, section)
        if node is not None:
            facts.agents.extend(_agent_names(node, path))
            facts.attributes.extend(_condition_attributes(node, path, in_condition=False))
    return Inventory(rules_files=[facts], files=[str(path)])


def _agent_names(node: yaml.Node, path: Path) -> Iterator[Reference]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = _scalar(key)
            if name in _AGENT_KEYS and _scalar(value):
                yield Reference(name=_scalar(value), source=_where(path, value))
            elif name in _AGENT_LIST_KEYS and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    named = _scalar(item) or _scalar(_mapping_value(item, "name"))
                    if named:
                        yield Reference(name=named, source=_where(path, item))
                    else:
                        yield from _agent_names(item, path)
            else:
                yield from _agent_names(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _agent_names(item, path)


def _condition_attributes(
    node: yaml.Node, path: Path, *, in_condition: bool
) -> Iterator[Reference]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = _scalar(key)
            inside = in_condition or name in _CONDITION_KEYS
            if inside:
                yield from _fields(name, path, key)
            if inside and name in _ATTRIBUTE_NAME_KEYS and _scalar(value):
                yield from _fields(f"attributes.{_scalar(value)}", path, value)
            elif inside and name == "attributes" and isinstance(value, yaml.MappingNode):
                for attribute, _ in value.value:
                    yield Reference(name=_scalar(attribute), source=_where(path, attribute))
            else:
                yield from _condition_attributes(value, path, in_condition=inside)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _condition_attributes(item, path, in_condition=in_condition)
    elif in_condition and isinstance(node, yaml.ScalarNode):
        yield from _fields(str(node.value), path, node)


def _fields(text: str, path: Path, node: yaml.Node) -> Iterator[Reference]:
    """Attribute keys named by a field path or expression in `text`."""
    for match in _FIELD.finditer(text.strip()):
        attribute = (match.group(1) or match.group(2) or match.group(3)).strip().rstrip(".")
        yield Reference(name=attribute, source=_where(path, node))


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if _scalar(key_node) == key:
                found: yaml.Node = value
                return found
    return None


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _error_line(error: yaml.YAMLError) -> int:
    mark = getattr(error, "problem_mark", None)
    return int(mark.line) + 1 if mark is not None else 1
