"""The agents YAML: defaults load, and every mistake is reported at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agents.config import (
    AgentsConfigError,
    ChoiceQuestion,
    NumberQuestion,
    YesNoQuestion,
    load_config,
    parse_config,
)
from switchboard.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]

MINIMAL = """\
qualifier:
  greeting: Hi
  questions:
    - id: owner
      kind: yes_no
      prompt: Do you own it?
"""


def problems(text: str) -> list[str]:
    with pytest.raises(AgentsConfigError) as info:
        parse_config(text, "agents.yaml")
    return [str(issue) for issue in info.value.issues]


def test_packaged_default_loads() -> None:
    config = load_config()
    assert config.qualifier.questions
    assert config.qualifier.on_qualified.transfer_to in config.transfer.targets


def test_example_file_loads() -> None:
    config = load_config(REPO / "examples" / "agents" / "agents.yaml")
    kinds = {type(q) for q in config.qualifier.questions}
    assert {YesNoQuestion, NumberQuestion, ChoiceQuestion} <= kinds
    target = config.transfer.targets[config.qualifier.on_qualified.transfer_to or ""]
    assert target.configured


def test_minimal_config_gets_defaults() -> None:
    config = parse_config(MINIMAL)
    question = config.qualifier.questions[0]
    assert isinstance(question, YesNoQuestion)
    assert question.dtmf == {"1": "yes", "2": "no"}
    assert question.display_label == "Owner"
    assert config.qualifier.max_attempts == 3
    assert config.transfer.human.attribute is not None
    assert config.timeouts.answer_seconds > 0


def test_error_is_a_config_error_with_file_and_line() -> None:
    text = MINIMAL.replace("kind: yes_no", "kind: yes_no\n      expect: maybe")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "agents.yaml")
    assert "agents.yaml:6: qualifier.questions[0].expect" in str(info.value)


def test_unknown_key_is_located() -> None:
    text = MINIMAL + "      colour: red\n"
    assert problems(text) == [
        "agents.yaml:7: qualifier.questions[0].colour: unknown key "
        "(check spelling; see docs/agents.md for the schema)"
    ]


def test_unknown_question_kind() -> None:
    found = problems(MINIMAL.replace("yes_no", "essay"))
    assert found == [
        "agents.yaml:4: qualifier.questions[0]: kind must be one of yes_no, number, choice, text"
    ]


def test_missing_required_field_points_at_parent() -> None:
    found = problems("qualifier:\n  questions:\n    - {id: a, kind: text, prompt: p}\n")
    assert found == ["agents.yaml:2: qualifier.greeting: Field required"]


def test_every_problem_is_listed_in_file_order() -> None:
    text = """\
qualifier:
  greeting: Hi
  max_attempts: 0
  questions:
    - id: Bad-Id
      kind: text
      prompt: p
timeouts:
  answer_seconds: -1
"""
    found = problems(text)
    assert [f.split(":")[1] for f in found] == ["3", "5", "9"]
    assert "qualifier.max_attempts" in found[0]
    assert "qualifier.questions[0].id" in found[1]
    assert "timeouts.answer_seconds" in found[2]


def test_choice_expectations_must_name_choices() -> None:
    text = """\
qualifier:
  greeting: Hi
  questions:
    - id: product
      kind: choice
      prompt: Which?
      choices: {solar: {}, roof: {}}
      expect: [windows]
"""
    (found,) = problems(text)
    assert found.startswith("agents.yaml:4: qualifier.questions[0]: expect names unknown choices")
    assert "['windows']" in found


def test_choice_dtmf_digits_must_be_unique() -> None:
    text = """\
qualifier:
  greeting: Hi
  questions:
    - id: product
      kind: choice
      prompt: Which?
      choices: {solar: {dtmf: "1"}, roof: {dtmf: "1"}}
"""
    (found,) = problems(text)
    assert "two choices share a DTMF digit" in found


def test_dtmf_keys_must_be_keypad_keys() -> None:
    text = MINIMAL + '      dtmf: {"12": "yes"}\n'
    (found,) = problems(text)
    assert found.startswith("agents.yaml:7: qualifier.questions[0].dtmf")


def test_number_bounds_are_ordered() -> None:
    text = MINIMAL.replace("kind: yes_no", "kind: number\n      min: 10\n      max: 1")
    (found,) = problems(text)
    assert "min (10) is greater than max (1)" in found


def test_duplicate_question_ids() -> None:
    text = MINIMAL + "    - id: owner\n      kind: text\n      prompt: again\n"
    (found,) = problems(text)
    assert "repeated: ['owner']" in found


def test_transfer_to_must_name_a_target() -> None:
    text = MINIMAL + "  on_qualified: {transfer_to: sales}\n"
    (found,) = problems(text)
    assert "unknown target 'sales'" in found


def test_target_needs_both_trunk_and_number() -> None:
    text = (
        MINIMAL + "transfer:\n  targets:\n    sales: {display_name: Sales, number: '+15550100'}\n"
    )
    (found,) = problems(text)
    assert found.startswith("agents.yaml:9: transfer.targets.sales")
    assert "set both sip_trunk_id and number" in found


def test_target_number_must_be_dialable() -> None:
    text = MINIMAL + (
        "transfer:\n  targets:\n"
        "    sales: {display_name: Sales, sip_trunk_id: ST_x, number: 'call bob'}\n"
    )
    (found,) = problems(text)
    assert "neither E.164" in found


def test_sip_uri_targets_are_accepted() -> None:
    text = MINIMAL + (
        "transfer:\n  targets:\n"
        "    sales: {display_name: Sales, sip_trunk_id: ST_x, number: 'sip:desk@example.com'}\n"
    )
    assert parse_config(text).transfer.targets["sales"].configured


def test_invalid_identity_pattern() -> None:
    text = MINIMAL + "transfer:\n  human: {identity_pattern: '(unclosed'}\n"
    (found,) = problems(text)
    assert "identity_pattern is not a valid regex" in found


def test_invalid_yaml_reports_line() -> None:
    (found,) = problems("qualifier:\n  greeting: [unclosed\n  questions: []\n")
    assert found.startswith("agents.yaml:3: invalid YAML")


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- just a list\n") == ["agents.yaml:1: expected a mapping at the top level"]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(AgentsConfigError) as info:
        load_config(tmp_path / "missing.yaml")
    assert "missing.yaml: cannot read" in str(info.value)


def test_fallback_message_depends_on_outcome() -> None:
    fallback = parse_config(MINIMAL).transfer.fallback
    assert fallback.message_for("busy") == fallback.callback_say
    assert fallback.message_for("loop_detected") == fallback.otherwise_say


def test_targets_default_to_a_warm_handoff_and_voicemail_gets_a_callback() -> None:
    config = parse_config(MINIMAL + "transfer:\n  targets:\n    sales: {display_name: Sales}\n")
    target = config.transfer.targets["sales"]
    assert (target.handoff, target.decision_seconds) == ("warm", 45)
    assert (
        config.transfer.fallback.message_for("no_decision") == config.transfer.fallback.callback_say
    )
    assert config.transfer.hold.tones_hz == [440.0, 554.0]


def test_handoff_must_be_warm_or_direct() -> None:
    text = MINIMAL + ("transfer:\n  targets:\n    sales: {display_name: Sales, handoff: cold}\n")
    (found,) = problems(text)
    assert found.startswith("agents.yaml:9: transfer.targets.sales.handoff")


def test_hold_tones_must_be_audible_frequencies() -> None:
    (found,) = problems(MINIMAL + "transfer:\n  hold: {tones_hz: [10]}\n")
    assert "transfer.hold.tones_hz" in found


def test_agent_names_default_to_the_bundled_names() -> None:
    config = parse_config(MINIMAL)
    assert (config.qualifier.name, config.outbound_caller.name) == ("qualifier", "outbound-caller")


def test_agent_names_are_configurable() -> None:
    text = MINIMAL + "  name: acme-qualifier\noutbound_caller: {name: acme-caller}\n"
    config = parse_config(text)
    assert (config.qualifier.name, config.outbound_caller.name) == ("acme-qualifier", "acme-caller")


def test_agent_name_must_be_a_name() -> None:
    (found,) = problems(MINIMAL + "outbound_caller: {name: 'acme caller'}\n")
    assert found == (
        "agents.yaml:7: outbound_caller.name: 'acme caller' is not a valid agent name: use "
        "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )


def test_the_two_agents_need_different_names() -> None:
    (found,) = problems(MINIMAL + "  name: same\noutbound_caller: {name: same}\n")
    assert "both 'same'" in found and "splits their jobs" in found
