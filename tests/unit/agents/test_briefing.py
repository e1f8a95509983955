"""Briefing the human: accept with 1 / accept, decline with 2 / decline, reprompt otherwise."""

from __future__ import annotations

import pytest

from switchboard.agents.briefing import BriefingDialogue, Decision, parse_decision
from switchboard.agents.config import OutboundCaller

CONFIG = OutboundCaller(
    accept_prompt="Press 1 to accept, 2 to decline.",
    reprompt="Pardon?",
    max_attempts=2,
    on_accepted="Connecting.",
    on_declined="Bye.",
)


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("1", Decision.ACCEPTED),
        ("press one", Decision.ACCEPTED),
        ("accept", Decision.ACCEPTED),
        ("OK, put through", Decision.ACCEPTED),
        ("yes", Decision.ACCEPTED),
        ("2", Decision.DECLINED),
        ("decline", Decision.DECLINED),
        ("I can't right now", Decision.DECLINED),
        ("no", Decision.DECLINED),
        ("refuse", Decision.DECLINED),
        ("3", Decision.PENDING),
        ("what?", Decision.PENDING),
        ("accept or decline", Decision.PENDING),
    ],
)
def test_parse_decision(text: str, decision: Decision) -> None:
    assert parse_decision(text) is decision


def test_start_plays_brief_then_prompt() -> None:
    briefing = BriefingDialogue(CONFIG, "Caller qualified.")
    turn = briefing.start()
    assert turn.say == ("Caller qualified.", "Press 1 to accept, 2 to decline.")
    assert turn.decision is Decision.PENDING
    assert briefing.start().say == ()


def test_accept_by_dtmf() -> None:
    briefing = BriefingDialogue(CONFIG, "Brief.")
    briefing.start()
    turn = briefing.press("1")
    assert turn.decision is Decision.ACCEPTED
    assert turn.say == ("Connecting.",)
    assert briefing.press("2").decision is Decision.ACCEPTED


def test_decline_by_voice() -> None:
    briefing = BriefingDialogue(CONFIG, "Brief.")
    briefing.start()
    assert briefing.hear("decline").decision is Decision.DECLINED


def test_reprompt_then_unclear() -> None:
    briefing = BriefingDialogue(CONFIG, "Brief.")
    briefing.start()
    turn = briefing.hear("hello?")
    assert turn.say == ("Pardon? Press 1 to accept, 2 to decline.",)
    assert turn.decision is Decision.PENDING
    assert turn.attempt == 2
    turn = briefing.silence()
    assert turn.decision is Decision.UNCLEAR
    assert turn.say == ("Bye.",)


def test_star_repeats_the_brief() -> None:
    briefing = BriefingDialogue(CONFIG, "Brief.")
    briefing.start()
    assert briefing.press("*").say == ("Brief.", "Press 1 to accept, 2 to decline.")
    assert briefing.press("*").attempt == 1


def test_input_before_start_is_ignored() -> None:
    briefing = BriefingDialogue(CONFIG, "Brief.")
    assert briefing.press("1").decision is Decision.PENDING
    assert briefing.hear("accept").say == ()
