"""The qualification dialogue, driven turn by turn like a caller would."""

from __future__ import annotations

from switchboard.agents.config import Qualifier, parse_config
from switchboard.agents.dialogue import Outcome, Phase, QualificationDialogue

CONFIG = """\
qualifier:
  greeting: Welcome.
  reprompt: Sorry?
  max_attempts: 2
  questions:
    - {id: owner, kind: yes_no, label: Owns home, prompt: "Own your home?", expect: "yes"}
    - id: product
      kind: choice
      label: Product
      prompt: "Solar or roof?"
      choices: {solar: {dtmf: "1"}, roof: {synonyms: [roofing], dtmf: "2"}}
      expect: [solar]
    - {id: bill, kind: number, label: Bill, unit: dollars, prompt: "Bill?", min: 1, max: 500}
  on_qualified: {say: Connecting., transfer_to: sales}
  on_not_qualified: Not a fit.
  on_gave_up: Giving up.
transfer:
  targets:
    sales: {display_name: Sales, sip_trunk_id: ST_1, number: "+15550100"}
"""


def qualifier() -> Qualifier:
    return parse_config(CONFIG).qualifier


def started() -> QualificationDialogue:
    dialogue = QualificationDialogue(qualifier())
    dialogue.start()
    return dialogue


def test_start_greets_and_asks_first_question() -> None:
    dialogue = QualificationDialogue(qualifier())
    assert dialogue.phase is Phase.NOT_STARTED
    turn = dialogue.start()
    assert turn.say == ("Welcome.", "Own your home?")
    assert turn.phase is Phase.ASKING
    assert turn.question_id == "owner"
    assert turn.attempt == 1
    assert dialogue.start().say == ()


def test_input_before_start_is_ignored() -> None:
    dialogue = QualificationDialogue(qualifier())
    assert dialogue.hear("yes").say == ()
    assert dialogue.press("1").say == ()
    assert dialogue.phase is Phase.NOT_STARTED


def test_qualified_by_text() -> None:
    dialogue = started()
    assert dialogue.hear("yeah").say == ("Solar or roof?",)
    assert dialogue.hear("solar please").say == ("Bill?",)
    turn = dialogue.hear("about a hundred and twenty")
    assert turn.say == ("Connecting.",)
    assert turn.phase is Phase.FINISHED
    result = turn.result
    assert result is not None
    assert result.outcome is Outcome.QUALIFIED
    assert result.slots == {"owner": "yes", "product": "solar", "bill": 120}
    assert result.transfer_to == "sales"
    assert result.brief("+15551234567") == (
        "Caller +15551234567 qualified. Owns home: yes. Product: solar. Bill: 120 dollars."
    )


def test_qualified_by_dtmf_with_pound_terminated_number() -> None:
    dialogue = started()
    dialogue.press("1")
    dialogue.press("1")
    assert dialogue.press("4").say == ()
    assert dialogue.press("2").collecting_digits
    turn = dialogue.press("#")
    assert turn.result is not None
    assert turn.result.slots == {"owner": "yes", "product": "solar", "bill": 42}


def test_number_completes_when_max_digits_are_typed() -> None:
    dialogue = started()
    dialogue.hear("yes")
    dialogue.hear("1")
    for digit in "49":
        dialogue.press(digit)
    turn = dialogue.press("9")
    assert turn.result is not None
    assert turn.result.slots["bill"] == 499


def test_typed_digits_finish_on_pause() -> None:
    dialogue = started()
    dialogue.hear("yes")
    dialogue.hear("solar")
    dialogue.press("7")
    turn = dialogue.digits_done()
    assert turn.result is not None
    assert turn.result.slots["bill"] == 7


def test_silence_with_pending_digits_submits_them() -> None:
    dialogue = started()
    dialogue.hear("yes")
    dialogue.hear("solar")
    dialogue.press("5")
    assert dialogue.silence().phase is Phase.FINISHED


def test_out_of_range_number_reprompts_with_hint() -> None:
    dialogue = started()
    dialogue.hear("yes")
    dialogue.hear("solar")
    turn = dialogue.hear("nine hundred")
    assert turn.say == ("Sorry? Please give a number from 1 to 500. Bill?",)
    assert turn.attempt == 2
    assert dialogue.press("0").say == ()
    assert dialogue.press("#").phase is Phase.FINISHED
    assert dialogue.result is not None
    assert dialogue.result.outcome is Outcome.GAVE_UP


def test_unexpected_answer_disqualifies_immediately() -> None:
    dialogue = started()
    dialogue.hear("yes")
    turn = dialogue.hear("roofing")
    assert turn.say == ("Not a fit.",)
    result = turn.result
    assert result is not None
    assert result.outcome is Outcome.NOT_QUALIFIED
    assert result.stopped_at == "product"
    assert result.transfer_to is None
    assert result.slots == {"owner": "yes", "product": "roof"}
    assert result.brief() == "The caller did not qualify on Product. Owns home: yes. Product: roof."


def test_no_disqualifies_on_yes_expectation() -> None:
    dialogue = started()
    result = dialogue.press("2").result
    assert result is not None
    assert result.outcome is Outcome.NOT_QUALIFIED


def test_reprompt_then_answer() -> None:
    dialogue = started()
    turn = dialogue.hear("what?")
    assert turn.say == ("Sorry? Own your home?",)
    assert turn.attempt == 2
    turn = dialogue.hear("yes")
    assert turn.question_id == "product"
    assert turn.attempt == 1


def test_gives_up_after_max_attempts() -> None:
    dialogue = started()
    dialogue.hear("hmm")
    turn = dialogue.hear("maybe")
    assert turn.say == ("Giving up.",)
    result = turn.result
    assert result is not None
    assert result.outcome is Outcome.GAVE_UP
    assert result.stopped_at == "owner"
    assert result.brief() == "The caller gave no clear answer to Owns home."


def test_silence_counts_as_an_attempt() -> None:
    dialogue = started()
    assert dialogue.silence().say == ("Sorry? Own your home?",)
    assert dialogue.silence().phase is Phase.FINISHED


def test_unknown_key_counts_as_an_attempt_and_star_repeats() -> None:
    dialogue = started()
    assert dialogue.press("*").say == ("Own your home?",)
    assert dialogue.press("*").attempt == 1
    assert dialogue.press("7").attempt == 2


def test_invalid_keys_and_blank_text_are_ignored() -> None:
    dialogue = started()
    assert dialogue.press("x").say == ()
    assert dialogue.press("12").say == ()
    assert dialogue.hear("   ").say == ()
    assert dialogue.question is not None
    assert dialogue.question.id == "owner"


def test_text_clears_half_typed_digits() -> None:
    dialogue = started()
    dialogue.hear("yes")
    dialogue.hear("solar")
    dialogue.press("9")
    turn = dialogue.hear("twenty")
    assert turn.result is not None
    assert turn.result.slots["bill"] == 20


def test_input_after_finish_is_ignored() -> None:
    dialogue = started()
    dialogue.press("2")
    assert dialogue.hear("yes").say == ()
    assert dialogue.press("1").say == ()
    assert dialogue.silence().say == ()
    assert dialogue.question is None


def test_packaged_default_runs_to_qualified() -> None:
    from switchboard.agents.config import load_config

    dialogue = QualificationDialogue(load_config().qualifier)
    dialogue.start()
    dialogue.hear("no")
    dialogue.hear("billing")
    result = dialogue.hear("five").result
    assert result is not None
    assert result.outcome is Outcome.QUALIFIED
