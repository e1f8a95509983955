"""A qualifier dispatched again resumes from the answers saved on the caller, never restarts."""

from __future__ import annotations

from switchboard.agents.answers import answered_before, answers_json
from switchboard.agents.dialogue import Outcome, Phase, QualificationDialogue
from tests.unit.agents.test_dialogue import qualifier

SORRY = "Sorry, we were cut off."


def test_saved_answers_are_read_in_order_up_to_the_first_unanswered_question() -> None:
    questions = qualifier().questions
    saved = answers_json({"owner": "yes", "product": "solar"})
    assert saved == '{"owner":"yes","product":"solar"}'
    assert answered_before(questions, saved) == {"owner": "yes", "product": "solar"}
    # "bill" without "product" before it: only what precedes the first gap counts.
    assert answered_before(questions, answers_json({"owner": "yes", "bill": 90})) == {
        "owner": "yes"
    }


def test_saved_answers_this_config_would_not_take_are_asked_again() -> None:
    questions = qualifier().questions
    assert answered_before(questions, "") == {}
    assert answered_before(questions, "not json") == {}
    assert answered_before(questions, "[1, 2]") == {}
    assert answered_before(questions, '{"owner": "perhaps"}') == {}
    assert answered_before(questions, '{"owner": true}') == {}
    assert answered_before(questions, '{"owner": "yes", "product": "wind"}') == {"owner": "yes"}
    assert answered_before(questions, '{"owner": "no", "product": "solar", "bill": 900}') == {
        "owner": "no",
        "product": "solar",
    }


def test_resume_apologises_and_asks_the_next_question() -> None:
    dialogue = QualificationDialogue(qualifier())
    turn = dialogue.resume({"owner": "yes"}, SORRY)
    assert turn.say == (SORRY, "Solar or roof?")
    assert (turn.phase, turn.question_id, turn.attempt) == (Phase.ASKING, "product", 1)
    assert dialogue.answered == {"owner": "yes"}
    turn = dialogue.press("1")
    assert turn.question_id == "bill"
    assert dialogue.answered == {"owner": "yes", "product": "solar"}
    assert dialogue.resume({}, SORRY).say == (), "only a dialogue not started resumes"


def test_resume_with_every_answer_given_ends_with_the_outcome() -> None:
    qualified = QualificationDialogue(qualifier())
    turn = qualified.resume({"owner": "yes", "product": "solar", "bill": 120}, SORRY)
    assert turn.say == (SORRY, "Connecting.")
    assert turn.result is not None and turn.result.outcome is Outcome.QUALIFIED
    facts = (("Owns home", "yes"), ("Product", "solar"), ("Bill", "120 dollars"))
    assert turn.result.facts == facts

    not_a_fit = QualificationDialogue(qualifier())
    turn = not_a_fit.resume({"owner": "no"}, SORRY)
    assert turn.say == (SORRY, "Not a fit.")
    assert turn.result is not None and turn.result.outcome is Outcome.NOT_QUALIFIED
