"""The qualification dialogue: a deterministic state machine over the configured questions (no I/O).

Feed it what the caller did (``hear`` text, ``press`` a DTMF key, ``silence``, ``digits_done``);
each call returns a ``Turn`` with what to say next. When it finishes, ``result`` holds the outcome,
the collected slots and the brief for the human.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from switchboard.agents.answers import (
    Answer,
    SlotValue,
    describe,
    meets_expectation,
    understand_digits,
    understand_text,
)
from switchboard.agents.config import NumberQuestion, Qualifier, Question


class Outcome(enum.StrEnum):
    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"
    GAVE_UP = "gave_up"


@dataclass(frozen=True, slots=True)
class QualificationResult:
    """How the qualification ended, what the caller answered, and what should happen next."""

    outcome: Outcome
    slots: dict[str, SlotValue]
    facts: tuple[tuple[str, str], ...] = ()
    """(label, answer as the brief shows it), in the order asked."""
    stopped_at: str | None = None
    """Question id the dialogue ended on when the caller did not qualify or gave up."""
    stopped_label: str = ""
    transfer_to: str | None = None

    def brief(self, caller: str = "") -> str:
        """One paragraph for the human who takes the call."""
        who = f"Caller {caller}" if caller else "The caller"
        if self.outcome is Outcome.QUALIFIED:
            head = f"{who} qualified."
        elif self.outcome is Outcome.NOT_QUALIFIED:
            head = f"{who} did not qualify on {self.stopped_label}."
        else:
            head = f"{who} gave no clear answer to {self.stopped_label}."
        facts = " ".join(f"{label}: {answer}." for label, answer in self.facts)
        return f"{head} {facts}".strip()


class Phase(enum.StrEnum):
    NOT_STARTED = "not_started"
    ASKING = "asking"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Turn:
    """What to say now, and where the dialogue stands afterwards."""

    say: tuple[str, ...]
    phase: Phase
    question_id: str | None = None
    attempt: int = 0
    collecting_digits: bool = False
    result: QualificationResult | None = None


@dataclass(slots=True)
class _Progress:
    index: int = 0
    attempt: int = 1
    digits: str = ""
    slots: dict[str, SlotValue] = field(default_factory=dict)
    described: dict[str, str] = field(default_factory=dict)


class QualificationDialogue:
    """Asks the configured questions in order; reprompts unclear answers up to ``max_attempts``."""

    def __init__(self, config: Qualifier) -> None:
        self._config = config
        self._phase = Phase.NOT_STARTED
        self._progress = _Progress()
        self._result: QualificationResult | None = None

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def result(self) -> QualificationResult | None:
        return self._result

    @property
    def question(self) -> Question | None:
        if self._phase is not Phase.ASKING:
            return None
        return self._config.questions[self._progress.index]

    def understands(self, text: str) -> bool:
        """Whether ``hear(text)`` would take ``text`` as an answer (no state change)."""
        question = self.question
        return question is not None and understand_text(question, text).understood

    def start(self) -> Turn:
        """Greet and ask the first question."""
        if self._phase is not Phase.NOT_STARTED:
            return self._turn(())
        self._phase = Phase.ASKING
        return self._turn((self._config.greeting, self._config.questions[0].prompt))

    @property
    def answered(self) -> dict[str, SlotValue]:
        """The answers taken so far, by question id."""
        return dict(self._progress.slots)

    def resume(self, answered: Mapping[str, SlotValue], say: str) -> Turn:
        """Start where an earlier agent stopped: ``answered`` (question id → value, as
        ``answers.answered_before`` reads it) counts as said; ``say``, then the first question
        not answered yet (or the outcome, when none is left)."""
        if self._phase is not Phase.NOT_STARTED:
            return self._turn(())
        self._phase = Phase.ASKING
        for question in self._config.questions:
            if question.id not in answered:
                break
            turn = self._settle(question, Answer(answered[question.id]))
            if turn.result is not None:
                return dataclasses.replace(turn, say=(say, *turn.say))
        current = self.question
        assert current is not None  # a question is left, or the loop returned the outcome
        return self._turn((say, current.prompt))

    def hear(self, text: str) -> Turn:
        """The caller said or typed ``text``."""
        question = self.question
        if question is None or not text.strip():
            return self._turn(())
        self._progress.digits = ""
        return self._settle(question, understand_text(question, text))

    def press(self, digit: str) -> Turn:
        """The caller pressed one keypad key (DTMF): ``0``-``9``, ``*`` or ``#``."""
        question = self.question
        if question is None or len(digit) != 1 or digit not in "0123456789*#":
            return self._turn(())
        progress = self._progress
        if digit == "*":
            progress.digits = ""
            return self._turn((question.prompt,))
        if isinstance(question, NumberQuestion) and question.dtmf:
            if digit == "#":
                return self.digits_done()
            progress.digits += digit
            if len(progress.digits) >= len(str(question.max)):
                return self.digits_done()
            return self._turn(())
        return self._settle(question, understand_digits(question, digit))

    def digits_done(self) -> Turn:
        """The caller finished typing a number (``#``, or the inter-digit pause elapsed)."""
        question = self.question
        if question is None or not self._progress.digits:
            return self._turn(())
        digits, self._progress.digits = self._progress.digits, ""
        return self._settle(question, understand_digits(question, digits))

    def silence(self) -> Turn:
        """No answer arrived in time; counts as an unclear attempt (typed digits are kept)."""
        question = self.question
        if question is None:
            return self._turn(())
        if self._progress.digits:
            return self.digits_done()
        return self._settle(question, Answer(None))

    def _settle(self, question: Question, answer: Answer) -> Turn:
        progress = self._progress
        if answer.value is None:
            if progress.attempt >= self._config.max_attempts:
                return self._finish(Outcome.GAVE_UP, stopped_at=question.id)
            progress.attempt += 1
            hint = f" {answer.hint}" if answer.hint else ""
            return self._turn((f"{self._config.reprompt}{hint} {question.prompt}",))
        progress.slots[question.id] = answer.value
        progress.described[question.id] = describe(question, answer.value)
        if not meets_expectation(question, answer.value):
            return self._finish(Outcome.NOT_QUALIFIED, stopped_at=question.id)
        if progress.index + 1 >= len(self._config.questions):
            return self._finish(Outcome.QUALIFIED)
        progress.index += 1
        progress.attempt = 1
        return self._turn((self._config.questions[progress.index].prompt,))

    def _finish(self, outcome: Outcome, stopped_at: str | None = None) -> Turn:
        labels = {q.id: q.display_label for q in self._config.questions}
        transfer_to = (
            self._config.on_qualified.transfer_to if outcome is Outcome.QUALIFIED else None
        )
        self._result = QualificationResult(
            outcome=outcome,
            slots=dict(self._progress.slots),
            facts=tuple((labels[k], v) for k, v in self._progress.described.items()),
            stopped_at=stopped_at,
            stopped_label=labels.get(stopped_at, "") if stopped_at else "",
            transfer_to=transfer_to,
        )
        self._phase = Phase.FINISHED
        say = {
            Outcome.QUALIFIED: self._config.on_qualified.say,
            Outcome.NOT_QUALIFIED: self._config.on_not_qualified,
            Outcome.GAVE_UP: self._config.on_gave_up,
        }[outcome]
        return self._turn((say,))

    def _turn(self, say: tuple[str, ...]) -> Turn:
        question = self.question
        return Turn(
            say=say,
            phase=self._phase,
            question_id=question.id if question else None,
            attempt=self._progress.attempt if question else 0,
            collecting_digits=bool(self._progress.digits),
            result=self._result,
        )
