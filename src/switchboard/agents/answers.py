"""Understanding one answer: yes/no, numbers (digits or words), choices by keyword, DTMF digits."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switchboard.agents.config import (
    Choice,
    ChoiceQuestion,
    NumberQuestion,
    Question,
    TextQuestion,
    YesNoQuestion,
)

SlotValue = str | int

_YES = frozenset(
    {
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "yah",
        "yes please",
        "sure",
        "correct",
        "affirmative",
        "absolutely",
        "definitely",
        "certainly",
        "indeed",
        "ok",
        "okay",
        "i do",
        "i am",
        "i have",
        "of course",
        "that's right",
        "uh huh",
        "true",
        "y",
    }
)
_NO = frozenset(
    {
        "no",
        "nope",
        "nah",
        "negative",
        "never",
        "not really",
        "not at all",
        "no thanks",
        "i don't",
        "i do not",
        "i'm not",
        "i am not",
        "i haven't",
        "i have not",
        "don't",
        "false",
        "n",
    }
)
_UNSURE = frozenset(
    {"not sure", "don't know", "do not know", "dunno", "maybe", "perhaps", "no idea", "unsure"}
)
_NEGATORS = frozenset({"not", "don't", "isn't", "never"})

_UNITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_KEYPAD_PREFIXES = ("press", "pressed", "number", "option", "key", "digit")


@dataclass(frozen=True, slots=True)
class Answer:
    """What was understood: ``value`` is None when the answer was unclear, ``hint`` says why."""

    value: SlotValue | None
    hint: str = ""

    @property
    def understood(self) -> bool:
        return self.value is not None


UNCLEAR = Answer(None)


def words(text: str) -> list[str]:
    """Lower-case words of ``text``; apostrophes kept (don't), hyphens split (twenty-five)."""
    cleaned = text.lower().replace("’", "'").replace("-", " ")
    return re.findall(r"[a-z0-9']+(?:[.,][0-9]+)*", cleaned)


def _has_phrase(tokens: list[str], phrase: str) -> bool:
    target = phrase.split()
    n = len(target)
    return any(tokens[i : i + n] == target for i in range(len(tokens) - n + 1))


def parse_yes_no(text: str) -> str | None:
    """'yes' / 'no' for clear answers (yeah, nope, I do, not really...), else None."""
    tokens = words(text)
    if not tokens or any(_has_phrase(tokens, p) for p in _UNSURE):
        return None
    votes: set[str] = set()
    i = 0
    while i < len(tokens):
        phrase = _longest_phrase_at(tokens, i)
        if phrase is None:
            i += 1
            continue
        end = i + len(phrase.split())
        negated = (i > 0 and tokens[i - 1] in _NEGATORS) or tokens[end : end + 1] == ["not"]
        votes.add("no" if phrase in _NO or negated else "yes")
        i = end
    return votes.pop() if len(votes) == 1 else None


def _longest_phrase_at(tokens: list[str], i: int) -> str | None:
    """The longest yes/no phrase starting at ``tokens[i]`` ('i do not' beats 'i do')."""
    best: str | None = None
    for phrase in _YES | _NO:
        parts = phrase.split()
        if tokens[i : i + len(parts)] == parts and (best is None or len(parts) > len(best.split())):
            best = phrase
    return best


def parse_number(text: str) -> int | None:
    """The one integer in ``text`` (digits or words up to millions), or None if none or several."""
    runs: list[int] = []
    run: _NumberRun | None = None
    tokens = words(text)
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if run is not None and token == "and" and _is_number_word(following):
            continue
        if token == "a" and following in _SCALES:
            token = "one"
        if _is_number_word(token):
            run = run or _NumberRun()
            if not run.add(token):
                return None
            continue
        if run is not None:
            runs.append(run.value)
            run = None
    if run is not None:
        runs.append(run.value)
    return runs[0] if len(runs) == 1 else None


def _is_number_word(token: str) -> bool:
    return (
        bool(re.fullmatch(r"\d[\d,]*", token))
        or token in _UNITS
        or token in _TEENS
        or (token in _TENS or token in _SCALES)
    )


class _NumberRun:
    """Accumulates 'two hundred and forty five' style numbers; rejects 'two five'."""

    def __init__(self) -> None:
        self.total = 0
        self.current = 0
        self.last = ""

    @property
    def value(self) -> int:
        return self.total + self.current

    def add(self, token: str) -> bool:
        if token in _SCALES:
            scale = _SCALES[token]
            if self.last in ("", "scale") and self.current == 0:
                return False
            if scale == 100:
                self.current = max(self.current, 1) * 100
            else:
                self.total += max(self.current, 1) * scale
                self.current = 0
            self.last = "scale"
            return True
        if self.last in ("unit", "teen", "digits"):
            return False
        if self.last == "tens" and token not in _UNITS:
            return False
        if token in _UNITS:
            self.current += _UNITS[token]
            self.last = "unit"
        elif token in _TEENS:
            self.current += _TEENS[token]
            self.last = "teen"
        elif token in _TENS:
            self.current += _TENS[token]
            self.last = "tens"
        else:
            self.current += int(token.replace(",", ""))
            self.last = "digits"
        return True


def parse_choice(text: str, choices: Mapping[str, Choice]) -> str | None:
    """The one choice whose name or synonym appears in ``text`` as a whole word or phrase."""
    tokens = words(text)
    matched = {
        name
        for name, choice in choices.items()
        for term in (name.replace("_", " "), *choice.synonyms)
        if term.strip() and _has_phrase(tokens, " ".join(words(term)))
    }
    return matched.pop() if len(matched) == 1 else None


def keypad_digit(text: str) -> str | None:
    """A single keypad key said or typed as text: '1', 'one', 'press 2', 'option three', '#'."""
    stripped = text.strip().lower().rstrip(".!")
    if stripped in ("#", "*", "pound", "hash", "star"):
        return {"pound": "#", "hash": "#", "star": "*"}.get(stripped, stripped)
    tokens = [t for t in words(stripped) if t not in _KEYPAD_PREFIXES]
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if re.fullmatch(r"\d", token):
        return token
    value = _UNITS.get(token)
    return str(value) if value is not None and token != "oh" else None


def understand_text(question: Question, text: str) -> Answer:
    """Interpret free text (typed, or transcribed speech) as an answer to ``question``."""
    if isinstance(question, TextQuestion):
        cleaned = " ".join(text.split())
        if len(cleaned) >= question.min_length:
            return Answer(cleaned)
        return Answer(None, f"Please answer with at least {question.min_length} characters.")
    if isinstance(question, NumberQuestion):
        return _in_range(question, parse_number(text))
    digit = keypad_digit(text)
    if digit is not None:
        by_key = understand_digits(question, digit)
        if by_key.understood:
            return by_key
    if isinstance(question, YesNoQuestion):
        return Answer(parse_yes_no(text))
    return Answer(parse_choice(text, question.choices))


def understand_digits(question: Question, digits: str) -> Answer:
    """Interpret keypad digits (a whole number for number questions, one key otherwise)."""
    if isinstance(question, YesNoQuestion):
        return Answer(question.dtmf.get(digits))
    if isinstance(question, ChoiceQuestion):
        by_key = {c.dtmf: name for name, c in question.choices.items() if c.dtmf is not None}
        return Answer(by_key.get(digits))
    if isinstance(question, NumberQuestion) and question.dtmf and digits.isdigit():
        return _in_range(question, int(digits))
    return UNCLEAR


def _in_range(question: NumberQuestion, value: int | None) -> Answer:
    if value is None:
        return UNCLEAR
    if question.min <= value <= question.max:
        return Answer(value)
    return Answer(None, f"Please give a number from {question.min} to {question.max}.")


def describe(question: Question, value: SlotValue) -> str:
    """``value`` as the brief shows it (with the question's unit for numbers)."""
    if isinstance(question, NumberQuestion) and question.unit:
        return f"{value} {question.unit}"
    return str(value)


def meets_expectation(question: Question, value: SlotValue) -> bool:
    """Whether ``value`` is what a qualified caller answers (no expectation: always true)."""
    if isinstance(question, YesNoQuestion):
        return question.expect is None or value == question.expect
    if isinstance(question, NumberQuestion):
        return question.expect is None or (
            isinstance(value, int) and question.expect.contains(value)
        )
    if isinstance(question, ChoiceQuestion):
        return question.expect is None or value in question.expect
    return True


def answers_json(slots: Mapping[str, SlotValue]) -> str:
    """``slots`` as the value of the caller's ``switchboard.answered`` attribute."""
    return json.dumps(dict(slots), separators=(",", ":"), sort_keys=True)


def answered_before(questions: Sequence[Question], saved: str) -> dict[str, SlotValue]:
    """The answers in a ``switchboard.answered`` value that fit ``questions``, in config order,
    up to the first question without one (what a resumed dialogue may take as said).

    Anything else (unknown ids, values this config would not accept, bad JSON) is dropped:
    the caller is asked again rather than carried on a wrong answer.
    """
    try:
        found = json.loads(saved) if saved else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    answered: dict[str, SlotValue] = {}
    for question in questions:
        value = found.get(question.id)
        if isinstance(value, bool) or not isinstance(value, str | int):
            break
        again = understand_text(question, str(value))
        if again.value != value:
            break
        answered[question.id] = value
    return answered
