"""Understanding single answers: yes/no, numbers, choices, keypad keys."""

from __future__ import annotations

import pytest

from switchboard.agents.answers import (
    keypad_digit,
    parse_choice,
    parse_number,
    parse_yes_no,
    understand_digits,
    understand_text,
)
from switchboard.agents.config import (
    Choice,
    ChoiceQuestion,
    NumberQuestion,
    TextQuestion,
    YesNoQuestion,
)

YES_NO = YesNoQuestion(kind="yes_no", id="owner", prompt="Own it?")
CHOICE = ChoiceQuestion(
    kind="choice",
    id="product",
    prompt="Which?",
    choices={
        "solar": Choice(synonyms=["panels", "pv"], dtmf="1"),
        "new_roof": Choice(synonyms=["roofing", "shingles"], dtmf="2"),
        "battery": Choice(synonyms=["storage"], dtmf="3"),
    },
)
NUMBER = NumberQuestion(kind="number", id="bill", prompt="How much?", min=1, max=500)


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes.",
        "YEAH",
        "yeah!",
        "yep",
        "yup",
        "sure",
        "Of course",
        "correct",
        "I do",
        "uh huh",
        "yes please",
        "okay",
        "absolutely",
        "Yes, I am",
        "y",
    ],
)
def test_yes_variants(text: str) -> None:
    assert parse_yes_no(text) == "yes"


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "No.",
        "nope",
        "nah",
        "Not really",
        "I don't",
        "I do not",
        "i’m not",
        "never",
        "no thanks",
        "absolutely not",
        "not correct",
        "of course not",
        "n",
    ],
)
def test_no_variants(text: str) -> None:
    assert parse_yes_no(text) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "maybe",
        "I'm not sure",
        "I don't know",
        "yes and no",
        "no idea",
        "purple",
        "what did you say?",
    ],
)
def test_unclear_yes_no(text: str) -> None:
    assert parse_yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("about 42 dollars", 42),
        ("1,200", 1200),
        ("zero", 0),
        ("one", 1),
        ("seven", 7),
        ("twelve", 12),
        ("twenty", 20),
        ("twenty-one", 21),
        ("Forty two", 42),
        ("ninety nine", 99),
        ("a hundred", 100),
        ("one hundred and five", 105),
        ("two hundred forty", 240),
        ("three thousand", 3000),
        ("5 thousand", 5000),
        ("two thousand twenty four", 2024),
        ("I'd say eighteen, roughly", 18),
    ],
)
def test_numbers(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "lots",
        "4 or 5",
        "between three and four",
        "two five",
        "2.5",
        "thousand",
        "nineteen ninety",
        "twenty twenty",
    ],
)
def test_unclear_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("solar", "solar"),
        ("Solar please", "solar"),
        ("I want some PV panels", "solar"),
        ("new roof", "new_roof"),
        ("roofing", "new_roof"),
        ("battery storage", "battery"),
    ],
)
def test_choices_by_name_or_synonym(text: str, choice: str) -> None:
    assert parse_choice(text, CHOICE.choices) == choice


@pytest.mark.parametrize("text", ["", "windows", "solar and a battery", "roof", "panelsss"])
def test_unclear_choices(text: str) -> None:
    assert parse_choice(text, CHOICE.choices) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1", "1"),
        (" 2 ", "2"),
        ("one", "1"),
        ("press 3", "3"),
        ("Option two.", "2"),
        ("#", "#"),
        ("pound", "#"),
        ("star", "*"),
        ("12", None),
        ("press one for yes", None),
        ("yes", None),
        ("oh", None),
    ],
)
def test_keypad_digit(text: str, key: str | None) -> None:
    assert keypad_digit(text) == key


def test_typed_keypad_digit_answers_yes_no_and_choice() -> None:
    assert understand_text(YES_NO, "1").value == "yes"
    assert understand_text(YES_NO, "press 2").value == "no"
    assert understand_text(YES_NO, "9").value is None
    assert understand_text(CHOICE, "3").value == "battery"
    assert understand_text(CHOICE, "two").value == "new_roof"


def test_number_answers_are_range_checked_with_a_hint() -> None:
    assert understand_text(NUMBER, "forty").value == 40
    too_big = understand_text(NUMBER, "a thousand")
    assert too_big.value is None
    assert too_big.hint == "Please give a number from 1 to 500."
    assert understand_text(NUMBER, "0").hint == "Please give a number from 1 to 500."


def test_digits_answer_each_kind() -> None:
    assert understand_digits(YES_NO, "1").value == "yes"
    assert understand_digits(YES_NO, "2").value == "no"
    assert understand_digits(YES_NO, "3").value is None
    assert understand_digits(CHOICE, "1").value == "solar"
    assert understand_digits(CHOICE, "9").value is None
    assert understand_digits(NUMBER, "250").value == 250
    assert understand_digits(NUMBER, "0").value is None


def test_custom_dtmf_mapping_for_yes_no() -> None:
    question = YesNoQuestion(kind="yes_no", id="x", prompt="?", dtmf={"9": "yes", "0": "no"})
    assert understand_digits(question, "9").value == "yes"
    assert understand_digits(question, "1").value is None


def test_text_question_takes_the_words_and_refuses_keys() -> None:
    question = TextQuestion(kind="text", id="name", prompt="Name?", min_length=2)
    assert understand_text(question, "  Ada   Lovelace ").value == "Ada Lovelace"
    assert understand_text(question, "A").value is None
    assert understand_digits(question, "1").value is None


def test_number_question_without_dtmf_ignores_keys() -> None:
    question = NumberQuestion(kind="number", id="n", prompt="?", dtmf=False)
    assert understand_digits(question, "5").value is None
    assert understand_text(question, "5").value == 5
