"""The shared words: their protocol spellings, the docs' tables, and the modules that use them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from livekit import rtc
from livekit.protocol.models import ParticipantInfo

from switchboard import handoff, vocabulary
from switchboard.agents import attributes
from switchboard.handoff import errors as dial_errors
from switchboard.handoff import presence
from switchboard.vocabulary import (
    AttributeKey,
    DialOutcome,
    OutboundCallerResult,
    OutboundCallerState,
    ParticipantKind,
    QualifierState,
    Role,
    TransferOutcome,
)

AGENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def test_participant_kinds_carry_livekit_numbers_and_webhook_names() -> None:
    for kind in ParticipantKind:
        assert ParticipantInfo.Kind.Value(kind.webhook_name) == kind.number
        assert ParticipantKind.from_number(kind.number) is kind
    assert ParticipantKind.from_number(99) is None


def test_the_presence_matcher_uses_the_rtc_sdk_s_own_kind_numbers() -> None:
    assert {name: rtc.ParticipantKind.Name(n) for name, n in presence.KIND_BY_NAME.items()} == {
        kind.value: f"PARTICIPANT_KIND_{kind.webhook_name}" for kind in ParticipantKind
    }
    assert presence.KIND_BY_NAME["connector"] == rtc.ParticipantKind.PARTICIPANT_KIND_CONNECTOR


def test_every_livekit_participant_kind_has_a_name() -> None:
    assert {ParticipantKind.from_number(n) for n in ParticipantInfo.Kind.values()} == set(
        ParticipantKind
    )


def test_representative_is_the_one_role_and_human_agent_its_older_spelling() -> None:
    assert Role.canonical(Role.HUMAN_AGENT) == Role.REPRESENTATIVE
    assert Role.canonical(Role.REPRESENTATIVE) == Role.REPRESENTATIVE
    assert Role.canonical(Role.CUSTOMER) == Role.CUSTOMER
    assert Role.canonical("supervisor") == "supervisor"


def test_dial_errors_report_dial_outcomes() -> None:
    outcomes = {
        cls.outcome
        for cls in vars(dial_errors).values()
        if isinstance(cls, type) and issubclass(cls, dial_errors.DialError)
    }
    assert outcomes == {o.value for o in DialOutcome}


def test_the_handoff_transfer_outcomes_are_the_vocabulary_s() -> None:
    assert {o.value for o in handoff.TransferOutcome} <= {o.value for o in TransferOutcome}


def test_the_agents_attribute_keys_are_the_vocabulary_s() -> None:
    for key in AttributeKey:
        if key is not AttributeKey.ROLE:  # a person's, never published by an agent
            assert getattr(attributes, key.name) is key


def test_importing_the_vocabulary_loads_no_livekit_sdk() -> None:
    code = (
        "import sys, switchboard.vocabulary; "
        "print(sorted(m for m in sys.modules if m.startswith(('livekit', 'pydantic'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def _states_table(caption: str) -> list[str]:
    """The first column of the table that follows ``caption`` in docs/agents.md."""
    text = AGENTS_DOC.read_text()
    after = text[text.index(caption) :].split("\n\n")[1]
    return re.findall(r"^\| `([a-z_]+)` \|", after, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("caption", "states"),
    [
        ("Qualifier (`QualifierState`):", QualifierState),
        ("Outbound-caller (`OutboundCallerState`):", OutboundCallerState),
    ],
)
def test_the_docs_states_tables_match_the_enums(
    caption: str, states: type[QualifierState] | type[OutboundCallerState]
) -> None:
    assert _states_table(caption) == [state.value for state in states]


def test_the_vocabulary_module_names_every_enum_it_documents() -> None:
    text = AGENTS_DOC.read_text()
    for name in ("QualifierState", "OutboundCallerState", "AttributeKey", "Role"):
        assert hasattr(vocabulary, name) and f"`{name}`" in text


@pytest.mark.parametrize("words", [AttributeKey, DialOutcome, OutboundCallerResult])
def test_the_agents_doc_names_every_attribute_and_result(
    words: type[AttributeKey] | type[DialOutcome] | type[OutboundCallerResult],
) -> None:
    text = AGENTS_DOC.read_text()
    assert [word.value for word in words if f"`{word.value}`" not in text] == []
