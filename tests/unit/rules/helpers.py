"""Builders shared by the rules tests: rules files from plain dicts, webhook-shaped events."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.rules import CompiledRules, Issue, RulesError, load_rules_text

MONDAY_NOON_UTC = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def rules_from(text: str) -> CompiledRules:
    """Load a rules file from (indented) YAML text."""
    return load_rules_text(textwrap.dedent(text), "test.yaml")


def document(rules: list[dict[str, Any]], default: Any = "nobody") -> str:
    """A rules file as text (JSON is YAML) from plain rule dicts."""
    return json.dumps({"version": 1, "rules": rules, "default": default})


def single_rule(when: Any, agent: str = "matched") -> CompiledRules:
    """Rules with one rule 'r' that dispatches ``agent`` when ``when`` holds."""
    return load_rules_text(document([{"id": "r", "when": when, "then": {"dispatch": [agent]}}]))


def matches(when: Any, event: dict[str, Any], now: datetime = MONDAY_NOON_UTC) -> bool:
    """True when a rule with this condition matches the event."""
    return single_rule(when).decide(event, now).rule_id == "r"


def issues_of(text: str) -> list[Issue]:
    """The issues a rules file produces (the test fails if it loads)."""
    with pytest.raises(RulesError) as caught:
        load_rules_text(textwrap.dedent(text), "test.yaml")
    return caught.value.issues


def sip_call(
    called: str = "+19497710000",
    caller: str = "+15550000000",
    *,
    event: str = "participant_joined",
    trunk: str = "ST_pX2mN7cK4dLq",
    created_at: str = "1748937600",
) -> dict[str, Any]:
    """A participant_joined webhook for an inbound SIP call, shaped like livekit-server's."""
    return {
        "event": event,
        "room": {
            "sid": "RM_nK8vR2yT5wQz",
            "name": f"call_{caller}_AbCdEfGhIjKl",
            "emptyTimeout": 300,
            "creationTime": created_at,
        },
        "participant": {
            "sid": "PA_Zq4Lm9Xc2Rt7",
            "identity": f"sip_{caller}",
            "state": "ACTIVE",
            "name": f"Phone {caller}",
            "kind": "SIP",
            "attributes": {
                "sip.callID": "SCL_fH3dLq8KpZ2m",
                "sip.phoneNumber": caller,
                "sip.trunkPhoneNumber": called,
                "sip.trunkID": trunk,
                "sip.callStatus": "active",
            },
        },
        "id": "EV_3mYtP9sW2kQa",
        "createdAt": created_at,
    }


def room_started(name: str = "room-1", metadata: Any = None) -> dict[str, Any]:
    """A room_started webhook; ``metadata`` is JSON-encoded unless it is already a string."""
    room: dict[str, Any] = {"sid": "RM_qW9eR4tY6uI1", "name": name, "emptyTimeout": 300}
    if metadata is not None:
        room["metadata"] = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return {
        "event": "room_started",
        "room": room,
        "id": "EV_5tGhJ2kL9zXc",
        "createdAt": "1748937600",
    }


def web_join(identity: str = "visitor-1", room: str = "support-1") -> dict[str, Any]:
    """A participant_joined webhook for a STANDARD participant (no ``kind`` key, as sent)."""
    return {
        "event": "participant_joined",
        "room": {"sid": "RM_aS3dF6gH8jK2", "name": room},
        "participant": {"sid": "PA_Wb3Vc5Xn7Mq1", "identity": identity, "state": "ACTIVE"},
        "id": "EV_1qAzW2sXe3Dc",
        "createdAt": "1748937600",
    }
