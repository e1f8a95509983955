"""``switchboard.role``: ``representative`` and its older spelling ``human-agent`` are one role."""

from __future__ import annotations

import pytest
from livekit import rtc

from switchboard.handoff import HumanMatcher
from switchboard.vocabulary import AttributeKey, Role

STANDARD = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD


@pytest.mark.parametrize("expected", [Role.REPRESENTATIVE, Role.HUMAN_AGENT])
@pytest.mark.parametrize("carried", [Role.REPRESENTATIVE, Role.HUMAN_AGENT])
def test_either_spelling_of_the_representative_matches_the_other(
    expected: Role, carried: Role
) -> None:
    matcher = HumanMatcher.build(attribute=(AttributeKey.ROLE, expected))
    assert matcher.matches(STANDARD, "rita", {AttributeKey.ROLE: carried})


@pytest.mark.parametrize("carried", [Role.CUSTOMER, "supervisor", ""])
def test_other_roles_stay_apart(carried: str) -> None:
    matcher = HumanMatcher.build(attribute=(AttributeKey.ROLE, Role.REPRESENTATIVE))
    assert not matcher.matches(STANDARD, "bob", {AttributeKey.ROLE: carried})
    assert not matcher.matches(STANDARD, "bob", {})


def test_only_the_role_attribute_has_spellings() -> None:
    matcher = HumanMatcher.build(attribute=("team", "human-agent"))
    assert not matcher.matches(STANDARD, "rita", {"team": "representative"})
    assert matcher.matches(STANDARD, "rita", {"team": "human-agent"})
