"""Agents configs are read by the rules' YAML reader: YAML 1.2 scalars, duplicate keys found."""

from __future__ import annotations

import pytest

from switchboard.agents.config import AgentsConfigError, YesNoQuestion, parse_config

CONFIG = """\
qualifier:
  greeting: Hi
  questions:
    - id: owner
      kind: yes_no
      prompt: Do you own it?
      expect: yes
      dtmf: {"1": yes, "2": no}
"""


def test_yes_and_no_are_text_without_quotes() -> None:
    question = parse_config(CONFIG).qualifier.questions[0]

    assert isinstance(question, YesNoQuestion)
    assert question.expect == "yes"
    assert question.dtmf == {"1": "yes", "2": "no"}


def test_a_duplicate_key_is_a_problem_at_its_line() -> None:
    with pytest.raises(AgentsConfigError) as info:
        parse_config(CONFIG + "  greeting: Hello\n", "agents.yaml")

    assert [str(issue) for issue in info.value.issues] == [
        "agents.yaml:9: duplicate key 'greeting' "
        "(hint: YAML keeps only the last one; remove or rename one of them)"
    ]
