"""Metadata templates: ``{field.path}`` placeholders filled from the event.

A ``{`` starts a placeholder only when a field name follows, so JSON braces need no escaping:
``{"caller": "{sip.phoneNumber}"}``. A template that is JSON gets its values JSON-escaped.
``{field?}`` marks a field optional: when the event lacks it, it renders as ``""`` (``null``
for a bare JSON value). A YAML mapping or list as metadata renders to compact JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from switchboard.rules.event import RoomEvent
from switchboard.rules.fields import MISSING, FieldPath, FieldPathError, parse_field_path

PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][^{}\s\"?]*)(\?)?\}")
_NEEDS_ESCAPE: Final = re.compile(r'[\x00-\x1f"\\\u2028\u2029]')

TemplateMode = Literal["text", "json", "structured"]
_Render = Callable[[RoomEvent], Any]
_Unknown = tuple[str, FieldPathError]


class TemplateSyntaxError(ValueError):
    """A template names unknown fields or is JSON-shaped but not valid JSON."""

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})")


class MissingFieldError(LookupError):
    """Rendering needed a field the event does not have."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(field)


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled metadata template."""

    mode: TemplateMode
    fields: tuple[FieldPath, ...]
    _render: _Render

    def render(self, event: RoomEvent) -> str:
        """The metadata string for ``event``; raises ``MissingFieldError``."""
        result = self._render(event)
        if self.mode == "structured":
            return json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        return str(result)

    @property
    def is_constant(self) -> bool:
        """True when the template has no placeholders."""
        return not self.fields


@dataclass(frozen=True, slots=True)
class _Slot:
    field: FieldPath
    optional: bool
    in_json_string: bool


def compile_template(source: str | Mapping[str, Any] | list[Any] | None) -> Template:
    """Compile metadata (a string, a mapping or a list); raises ``TemplateSyntaxError``."""
    if source is None:
        return Template("text", (), lambda event: "")
    if isinstance(source, str):
        return _compile_string(source)
    slots: list[_Slot] = []
    errors: list[_Unknown] = []
    render = _compile_structure(source, slots, errors)
    _raise_unknown(errors)
    return Template("structured", tuple(slot.field for slot in slots), render)


def _compile_string(text: str) -> Template:
    parts, slots, errors = _split(text)
    _raise_unknown(errors)
    mode: TemplateMode = "json" if _is_json(text, parts) else "text"
    fields = tuple(slot.field for slot in slots)
    if not slots:
        return Template(mode, fields, lambda event: text)
    pieces = [
        part if isinstance(part, str) else _slot_renderer(part, json_mode=mode == "json")
        for part in parts
    ]

    def render(event: RoomEvent) -> str:
        return "".join([piece if isinstance(piece, str) else piece(event) for piece in pieces])

    return Template(mode, fields, render)


def _split(text: str) -> tuple[list[str | _Slot], list[_Slot], list[_Unknown]]:
    parts: list[str | _Slot] = []
    slots: list[_Slot] = []
    errors: list[_Unknown] = []
    position = 0
    in_string = False
    for match in PLACEHOLDER.finditer(text):
        literal = text[position : match.start()]
        in_string = _json_string_state(literal, in_string)
        parts.append(literal)
        try:
            slot = _Slot(parse_field_path(match[1]), match[2] == "?", in_string)
        except FieldPathError as exc:
            errors.append((match[1], exc))
        else:
            parts.append(slot)
            slots.append(slot)
        position = match.end()
    parts.append(text[position:])
    return [part for part in parts if part != ""], slots, errors


def _json_string_state(literal: str, in_string: bool) -> bool:
    escaped = False
    for char in literal:
        if escaped:
            escaped = False
        elif char == "\\" and in_string:
            escaped = True
        elif char == '"':
            in_string = not in_string
    return in_string


def _is_json(text: str, parts: list[str | _Slot]) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")) or PLACEHOLDER.match(stripped):
        return False
    probe = "".join(
        part if isinstance(part, str) else ("" if part.in_json_string else "null") for part in parts
    )
    try:
        json.loads(probe)
    except ValueError as exc:
        if stripped.startswith("["):
            return False
        raise TemplateSyntaxError(
            f"metadata looks like JSON but is not valid JSON: {exc}",
            "fix the JSON, or write the metadata as a YAML mapping and Switchboard encodes it",
        ) from None
    return True


def _raise_unknown(errors: list[_Unknown]) -> None:
    if errors:
        names = ", ".join(f"'{{{name}}}'" for name, _ in errors)
        noun = "field" if len(errors) == 1 else "fields"
        raise TemplateSyntaxError(f"unknown template {noun} {names}", errors[0][1].hint)


def _value(slot: _Slot, event: RoomEvent) -> Any:
    value = slot.field.get(event)
    if value is MISSING:
        if not slot.optional:
            raise MissingFieldError(slot.field.text)
        return None
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _json_string_body(text: str) -> str:
    """``text`` escaped for the inside of a JSON string (most values need no escaping)."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _slot_renderer(slot: _Slot, *, json_mode: bool) -> Callable[[RoomEvent], str]:
    if not json_mode:
        return lambda event: _as_text(_value(slot, event))
    if slot.in_json_string:
        return lambda event: _json_string_body(_as_text(_value(slot, event)))
    return lambda event: json.dumps(_value(slot, event), ensure_ascii=False)


def _compile_structure(value: Any, slots: list[_Slot], errors: list[_Unknown]) -> _Render:
    if isinstance(value, Mapping):
        items = [(str(k), _compile_structure(v, slots, errors)) for k, v in value.items()]
        return lambda event: {key: render(event) for key, render in items}
    if isinstance(value, list):
        renders = [_compile_structure(item, slots, errors) for item in value]
        return lambda event: [render(event) for render in renders]
    if not isinstance(value, str):
        return lambda event: value
    whole = PLACEHOLDER.fullmatch(value)
    if whole is not None:
        try:
            slot = _Slot(parse_field_path(whole[1]), whole[2] == "?", False)
        except FieldPathError as exc:
            errors.append((whole[1], exc))
            return lambda event: None
        slots.append(slot)
        return lambda event: _value(slot, event)
    parts, found, bad = _split(value)
    slots.extend(found)
    errors.extend(bad)
    pieces = [
        part if isinstance(part, str) else _slot_renderer(part, json_mode=False) for part in parts
    ]
    return lambda event: "".join(p if isinstance(p, str) else p(event) for p in pieces)
