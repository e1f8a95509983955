"""Briefing the human before a transfer: play the brief, then accept (1) or decline (2). No I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from switchboard.agents.answers import keypad_digit, parse_yes_no, words
from switchboard.agents.config import OutboundCaller

_ACCEPT = frozenset({"accept", "accepted", "take", "connect", "put through", "go ahead"})
_DECLINE = frozenset({"decline", "declined", "refuse", "reject", "busy", "can't", "cannot"})


class Decision(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    UNCLEAR = "unclear"
    """No clear answer after every attempt; treat it as declined."""


@dataclass(frozen=True, slots=True)
class BriefingTurn:
    say: tuple[str, ...]
    decision: Decision
    attempt: int


def parse_decision(text: str) -> Decision:
    """ACCEPTED / DECLINED for 'accept', 'press 1', 'yes', 'decline', '2', 'no'...; else PENDING."""
    key = keypad_digit(text)
    if key in ("1", "2"):
        return Decision.ACCEPTED if key == "1" else Decision.DECLINED
    tokens = " ".join(words(text))
    padded = f" {tokens} "
    accept = any(f" {w} " in padded for w in _ACCEPT)
    decline = any(f" {w} " in padded for w in _DECLINE)
    if accept != decline:
        return Decision.ACCEPTED if accept else Decision.DECLINED
    if accept and decline:
        return Decision.PENDING
    yes_no = parse_yes_no(text)
    if yes_no is not None:
        return Decision.ACCEPTED if yes_no == "yes" else Decision.DECLINED
    return Decision.PENDING


class BriefingDialogue:
    """Tells the human who is waiting, and asks whether they take the call."""

    def __init__(self, config: OutboundCaller, brief: str) -> None:
        self._config = config
        self._brief = brief
        self._attempt = 0
        self._decision = Decision.PENDING

    @property
    def decision(self) -> Decision:
        return self._decision

    def start(self) -> BriefingTurn:
        """Play the brief and the accept/decline prompt."""
        if self._attempt:
            return self._turn(())
        self._attempt = 1
        return self._turn(tuple(s for s in (self._brief, self._config.accept_prompt) if s))

    def hear(self, text: str) -> BriefingTurn:
        """The human said or typed ``text``."""
        return self._decide(parse_decision(text))

    def press(self, digit: str) -> BriefingTurn:
        """The human pressed a keypad key; ``*`` repeats the brief."""
        if self._decision is not Decision.PENDING or not self._attempt:
            return self._turn(())
        if digit == "*":
            return self._turn(tuple(s for s in (self._brief, self._config.accept_prompt) if s))
        return self._decide(parse_decision(digit))

    def silence(self) -> BriefingTurn:
        """No answer in time: counts as an unclear attempt."""
        return self._decide(Decision.PENDING)

    def _decide(self, decision: Decision) -> BriefingTurn:
        if self._decision is not Decision.PENDING or not self._attempt:
            return self._turn(())
        if decision is Decision.ACCEPTED:
            self._decision = decision
            return self._turn((self._config.on_accepted,))
        if decision is Decision.DECLINED:
            self._decision = decision
            return self._turn((self._config.on_declined,))
        if self._attempt >= self._config.max_attempts:
            self._decision = Decision.UNCLEAR
            return self._turn((self._config.on_declined,))
        self._attempt += 1
        return self._turn((f"{self._config.reprompt} {self._config.accept_prompt}",))

    def _turn(self, say: tuple[str, ...]) -> BriefingTurn:
        return BriefingTurn(say=say, decision=self._decision, attempt=self._attempt)
