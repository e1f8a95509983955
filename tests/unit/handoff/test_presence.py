"""Who counts as the human the call is handed to."""

from __future__ import annotations

from livekit import rtc

from switchboard.handoff import HumanMatcher

SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP
STANDARD = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
AGENT = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
ROLE = ("switchboard.role", "human-agent")


def test_default_matches_standard_and_answered_sip() -> None:
    matcher = HumanMatcher.build()
    assert matcher.matches(STANDARD, "alice", {})
    assert matcher.matches(SIP, "sip_+1555", {"sip.callStatus": "active"})
    assert not matcher.matches(AGENT, "agent-AJ_1", {})


def test_ringing_sip_participant_is_not_there_yet() -> None:
    matcher = HumanMatcher.build()
    for status in ("dialing", "ringing", "automation", "hangup"):
        assert not matcher.matches(SIP, "sip_+1555", {"sip.callStatus": status})


def test_attribute_must_match() -> None:
    matcher = HumanMatcher.build(attribute=ROLE)
    assert matcher.matches(STANDARD, "bob", {"switchboard.role": "human-agent"})
    assert not matcher.matches(STANDARD, "caller", {})
    assert not matcher.matches(STANDARD, "bob", {"switchboard.role": "caller"})
    answered = {"switchboard.role": "human-agent", "sip.callStatus": "active"}
    assert matcher.matches(SIP, "sip_desk", answered)
    assert not matcher.matches(SIP, "sip_desk", {**answered, "sip.callStatus": "ringing"})


def test_identity_pattern_is_a_full_match() -> None:
    matcher = HumanMatcher.build(identity_pattern=r"human-.+")
    assert matcher.matches(STANDARD, "human-1", {})
    assert not matcher.matches(STANDARD, "not-human-1", {})


def test_kinds_by_name() -> None:
    matcher = HumanMatcher.build(kinds=["sip"])
    assert matcher.matches(SIP, "x", {})
    assert not matcher.matches(STANDARD, "x", {})


def test_excluded_identities_never_count() -> None:
    matcher = HumanMatcher.build(exclude_identities=["sip_+15551234567"])
    assert not matcher.matches(SIP, "sip_+15551234567", {"sip.callStatus": "active"})
    assert matcher.matches(SIP, "sip_+15550000000", {"sip.callStatus": "active"})
