"""Metadata templates: placeholders, JSON escaping, structured metadata and missing fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.rules import RoomEvent
from switchboard.rules.templates import MissingFieldError, TemplateSyntaxError, compile_template

from .helpers import document, room_started, rules_from, sip_call

CALL = RoomEvent.from_webhook_dict(sip_call(caller='+1555"quoted\\caller'))
ROOM = RoomEvent.from_webhook_dict(
    room_started("r-1", {"customer_id": "C-42", "n": 3, "tags": ["a"], "nested": {"k": "v"}})
)


def render(source: Any, event: RoomEvent) -> str:
    return compile_template(source).render(event)


def test_text_templates_substitute_fields() -> None:
    assert render("room {room.name} for {room.metadata.customer_id}", ROOM) == "room r-1 for C-42"
    assert render("{room.metadata.n}/{room.metadata.tags}", ROOM) == '3/["a"]'
    assert compile_template("room {room.name}").mode == "text"


def test_text_without_placeholders_is_constant() -> None:
    template = compile_template("plain text { not a field }")
    assert template.is_constant
    assert template.render(ROOM) == "plain text { not a field }"


def test_json_templates_escape_values_inside_strings() -> None:
    template = compile_template('{"caller": "{sip.phoneNumber}", "room": "{room.name}"}')
    assert template.mode == "json"
    rendered = template.render(CALL)
    assert json.loads(rendered)["caller"] == '+1555"quoted\\caller'


def test_bare_json_placeholders_keep_the_json_type() -> None:
    rendered = render(
        '{"n": {room.metadata.n}, "tags": {room.metadata.tags}, "id": {room.metadata.customer_id}}',
        ROOM,
    )
    assert json.loads(rendered) == {"n": 3, "tags": ["a"], "id": "C-42"}


def test_structured_metadata_renders_compact_json_and_keeps_whole_field_types() -> None:
    source = {
        "customer": "{room.metadata.customer_id}",
        "n": "{room.metadata.n}",
        "label": "n={room.metadata.n}",
        "fixed": [1, True],
    }
    template = compile_template(source)
    assert template.mode == "structured"
    assert json.loads(template.render(ROOM)) == {
        "customer": "C-42",
        "n": 3,
        "label": "n=3",
        "fixed": [1, True],
    }
    assert " " not in template.render(ROOM)


def test_optional_fields_render_empty_or_null() -> None:
    assert render("x{room.metadata.nope?}y", ROOM) == "xy"
    assert json.loads(
        render('{"a": "{room.metadata.nope?}", "b": {room.metadata.nope?}}', ROOM)
    ) == {"a": "", "b": None}
    assert json.loads(render({"a": "{room.metadata.nope?}"}, ROOM)) == {"a": None}


def test_missing_required_fields_raise_with_the_field_name() -> None:
    with pytest.raises(MissingFieldError) as caught:
        render('{"caller": "{sip.phoneNumber}"}', ROOM)
    assert caught.value.field == "participant.attributes[sip.phoneNumber]"


def test_unknown_fields_are_syntax_errors_naming_every_one() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("{room.nme} and {participant.idnetity}")
    assert "'{room.nme}'" in caught.value.message
    assert "'{participant.idnetity}'" in caught.value.message


def test_json_shaped_templates_must_be_valid_json() -> None:
    with pytest.raises(TemplateSyntaxError, match="not valid JSON"):
        compile_template('{"caller": "{sip.phoneNumber}",}')


def test_text_starting_with_a_bracket_is_not_forced_to_be_json() -> None:
    assert render("[{room.name}] joined", ROOM) == "[r-1] joined"


def test_decide_reports_a_missing_field_as_a_decision_error_not_an_exception() -> None:
    rules = rules_from(
        document(
            [
                {
                    "id": "outbound",
                    "when": {"event": "room_started"},
                    "then": {
                        "dispatch": [{"agent": "a", "metadata": "{room.metadata.customer_id}"}, "b"]
                    },
                }
            ]
        )
    )
    decision = rules.decide(room_started("r", {"flow": "outbound"}))
    assert decision.rule_id == "outbound"
    assert decision.agent_names == ["b"]
    assert len(decision.errors) == 1
    assert "room.metadata.customer_id" in decision.errors[0]
    assert "{room.metadata.customer_id?}" in decision.errors[0]
