"""The agents YAML speaks the shared vocabulary: its words load as the vocabulary's enums, and a
wrong word is reported at its file:line with the words allowed."""

from __future__ import annotations

import pytest

from switchboard.agents.config import parse_config
from switchboard.vocabulary import (
    AttributeKey,
    DialOutcome,
    Handoff,
    ParticipantKind,
    Role,
    TargetRoom,
    TransferOutcome,
)
from tests.unit.agents.test_config import MINIMAL, problems

CONFIG = (
    MINIMAL
    + """\
transfer:
  targets:
    desk: {display_name: Desk, handoff: direct, room: caller}
    callback: {display_name: Back, sip_trunk_id: ST_1, number: caller, room: new}
  fallback:
    callback_on: [busy, all_busy]
    outcome_say: {human_left: Gone.}
  human: {kinds: [sip]}
"""
)


def test_the_config_words_load_as_the_vocabulary_s_enums() -> None:
    config = parse_config(CONFIG)
    desk, callback = config.transfer.targets["desk"], config.transfer.targets["callback"]
    assert (desk.handoff, desk.room) == (Handoff.DIRECT, TargetRoom.CALLER)
    assert type(desk.handoff) is Handoff and type(desk.room) is TargetRoom
    assert callback.room is TargetRoom.NEW
    assert config.transfer.human.kinds == [ParticipantKind.SIP]
    assert type(config.transfer.human.kinds[0]) is ParticipantKind
    assert config.transfer.fallback.callback_on == [DialOutcome.BUSY, TransferOutcome.ALL_BUSY]
    assert config.transfer.fallback.message_for(TransferOutcome.HUMAN_LEFT).startswith("Gone.")


def test_the_defaults_are_the_vocabulary_s_words() -> None:
    config = parse_config(MINIMAL)
    attribute = config.transfer.human.attribute
    assert attribute is not None
    assert (attribute.name, attribute.value) == (AttributeKey.ROLE, Role.HUMAN_AGENT)
    assert config.transfer.human.kinds == [ParticipantKind.SIP, ParticipantKind.STANDARD]
    assert TransferOutcome.NO_DECISION in config.transfer.fallback.callback_on


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        (
            "handoff: cold",
            "agents.yaml:9: transfer.targets.desk.handoff: Input should be 'warm' or 'direct'",
        ),
        (
            "room: other",
            "agents.yaml:9: transfer.targets.desk.room: Input should be 'caller' or 'new'",
        ),
    ],
)
def test_a_wrong_target_word_lists_the_allowed_ones(wrong: str, expected: str) -> None:
    key = wrong.split(":")[0]
    text = CONFIG.replace(f"{key}: {'direct' if key == 'handoff' else 'caller'}", wrong, 1)
    assert problems(text) == [expected]


def test_a_wrong_outcome_or_kind_lists_the_allowed_ones() -> None:
    text = CONFIG.replace("[busy, all_busy]", "[busy, engaged]").replace("[sip]", "[robot]")
    found = problems(text)
    assert len(found) == 2
    outcome, kind = found
    assert outcome.startswith("agents.yaml:12: transfer.fallback.callback_on[1]: Input should be")
    assert all(f"'{word.value}'" in outcome for word in DialOutcome)
    assert "'human_left'" in outcome and "'all_busy'" in outcome
    assert kind.startswith("agents.yaml:14: transfer.human.kinds[0]: Input should be")
    assert all(f"'{kind_.value}'" in kind for kind_ in ParticipantKind)
