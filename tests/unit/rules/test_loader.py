"""load_rules: every problem of a file, each at file:line:column with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.rules import RulesError, load_rules
from switchboard.rules.errors import Issue

from .helpers import issues_of, rules_from

GOOD = """\
version: 1
rules:
  - id: sales
    when:
      event: participant_joined
      sip.trunkPhoneNumber: "+19497710000"
    then:
      dispatch: [qualifier]
default: nobody
"""


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, [str(issue) for issue in issues]
    return issues[0]


def test_a_valid_file_loads() -> None:
    rules = rules_from(GOOD)
    assert rules.rule_ids == ["sales"]
    assert rules.digest


def test_load_rules_reads_a_path_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    assert load_rules(path).source == str(path)
    assert len(load_rules(str(path))) == 1
    path.write_text(GOOD.replace("nobody", "nobdy"))
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert str(caught.value.issues[0]).startswith(f"{path}:9:10: ")


def test_missing_and_unreadable_files_are_rules_errors(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00version: 1")
    with pytest.raises(RulesError, match="not UTF-8"):
        load_rules(binary)


def test_issue_format_is_file_line_column_message_hint() -> None:
    issue = Issue("r.yaml", 3, 7, "unknown key 'thne'", "did you mean 'then'?")
    assert str(issue) == "r.yaml:3:7: unknown key 'thne' (hint: did you mean 'then'?)"
    assert str(Issue("r.yaml", 1, 1, "oops")) == "r.yaml:1:1: oops"


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    issues = issues_of(
        """\
        version: 1
        rules:
          - id: a
            when:
              room.nmae: x
              participant.identity: {regex: "a("}
              time: {timezone: Mars/Olympus, days: [mon, funday], from: "09:00", to: "17:00"}
              percentage: 150
            then:
              dispatch: [{agent: "", metadata: '{room.nme}'}]
          - id: a
            when: {event: room_created}
            then: nobody
        default: nobody
        """
    )
    positions = [(issue.line, issue.column) for issue in issues]
    assert positions == sorted(positions)
    messages = [issue.message for issue in issues]
    assert messages == [
        "unknown field 'room.nmae'",
        "bad regex 'a(': missing ), unterminated subpattern at position 1",
        "unknown timezone 'Mars/Olympus'",
        "unknown weekday 'funday'",
        "percentage must be between 0 and 100, got 150",
        "agent name is empty",
        "unknown template field '{room.nme}'",
        "duplicate rule id 'a' (first used on line 3)",
        "unknown event type 'room_created'",
    ]
    assert [(i.line, i.column) for i in issues[:2]] == [(5, 7), (6, 37)]
    assert all(issue.hint for issue in issues)


@pytest.mark.parametrize(
    ("text", "message", "where", "hint"),
    [
        (
            "version: 1\nrules: []\ndefault: nobody\nextra: 1\n",
            "unknown key 'extra'",
            (4, 1),
            "see docs",
        ),
        ("version: 1\nrules: []\ndefualt: nobody\n", "unknown key 'defualt'", (3, 1), "'default'"),
        ("rules: []\ndefault: nobody\n", "missing required key 'version'", (1, 1), "version: 1"),
        (
            "version: 2\nrules: []\ndefault: nobody\n",
            "unsupported rules file version 2",
            (1, 10),
            "version: 1",
        ),
        ("version: 1\nrules: []\n", "missing required key 'default'", (1, 1), "default: nobody"),
        (
            "version: 1\nrules: {}\ndefault: nobody\n",
            "expected a list, got a mapping",
            (2, 8),
            "list",
        ),
        (
            "version: 1\nrules: []\ndefault: everyone\n",
            "an action must be 'nobody'",
            (3, 10),
            "nobody",
        ),
        (
            "version: 1\nrules: []\ndefault: {dispatch: [{agent: a, metadata: 5}]}\n",
            "metadata must be text or a mapping",
            (3, 43),
            "template",
        ),
        (
            "version: 1\nrules: []\ndefault: {dispatch: [{agnt: a}]}\n",
            "unknown key 'agnt'",
            (3, 23),
            "'agent'",
        ),
        (
            "version: 1\nrules:\n  - id: 'bad id!'\n    when: always\n"
            "    then: nobody\ndefault: nobody\n",
            "bad rule id 'bad id!'",
            (3, 9),
            "letters",
        ),
        (
            "version: 1\nrules:\n  - id: r\n    then: nobody\ndefault: nobody\n",
            "missing required key 'when'",
            (3, 5),
            "when",
        ),
    ],
)
def test_structural_errors(text: str, message: str, where: tuple[int, int], hint: str) -> None:
    issue = only(issues_of(text))
    assert issue.message.startswith(message), issue
    assert (issue.line, issue.column) == where, issue
    assert hint in issue.hint


def rule_with(when: str) -> str:
    return f"version: 1\nrules:\n  - id: r\n    when: {when}\n    then: nobody\ndefault: nobody\n"


@pytest.mark.parametrize(
    ("when", "message", "hint"),
    [
        (
            "{sip.trunkPhoneNumber: +19497710000}",
            "is text, but 19497710000 is a number",
            'quote the value, e.g. "+19497710000"',
        ),
        ("{room.name: true}", "room.name is text, but True is a boolean", '"true"'),
        ("{room.name: null}", "room.name is text and never null", "exists: false"),
        ("{participant.kind: sip}", "unknown participant kind 'sip'", "SIP"),
        ("{event: room_created}", "unknown event type 'room_created'", "room_started"),
        ("{event: {gt: 1}}", "event is a name, not a number", "eq or in"),
        ("{room.name: {}}", "no test for room.name", "glob"),
        ("{room.name: {in: []}}", "'in: []' on room.name never matches", "at least one"),
        ("{room.name: {glob: a, nope: 1}}", "unknown key 'nope'", "eq, ne, in"),
        ("{room: {name: x}}", "unknown field 'room'", "whole path as one key, e.g. room.name"),
        ("{any: []}", "'any: []' never matches", "remove"),
        ("[1]", "a condition must be a mapping, got int 1", "participant.kind: SIP"),
        (
            "{time: {timezone: UTC, from: '09:00', to: '09:00'}}",
            "'from' and 'to' are both 09:00",
            "24:00",
        ),
        (
            "{time: {timezone: UTC, from: '25:00', to: '17:00'}}",
            "time of day '25:00' is out of range",
            "00:00",
        ),
        (
            "{time: {timezone: UTC, from: 900, to: '17:00'}}",
            "expected text, got the number 900",
            "'09:00'",
        ),
        (
            "{time: {timezone: UTC, days: [], from: '09:00', to: '17:00'}}",
            "no weekdays given",
            "mon-fri",
        ),
        (
            "{time: {from: '09:00', to: '17:00'}}",
            "missing required key 'timezone'",
            "Europe/Berlin",
        ),
        ("{percentage: -1}", "percentage must be between 0 and 100, got -1", "percent: 10"),
        ("{percentage: {percent: 5, key: room.nmae}}", "unknown field 'room.nmae'", "room.name"),
    ],
)
def test_condition_errors(when: str, message: str, hint: str) -> None:
    issue = only(issues_of(rule_with(when)))
    assert message in issue.message, issue
    assert hint in issue.hint, issue
    assert issue.line == 4


def test_unknown_field_errors_point_at_the_key() -> None:
    issue = only(issues_of(rule_with("\n      room.name: x\n      participant.identiy: y")))
    assert (issue.line, issue.column) == (6, 7)


def test_template_errors() -> None:
    text = (
        "version: 1\nrules: []\ndefault:\n  dispatch:\n    - agent: a\n"
        "      metadata: '{\"x\": {room.name}'\n"
    )
    issue = only(issues_of(text))
    assert issue.message.startswith("metadata looks like JSON but is not valid JSON")
    assert (issue.line, issue.column) == (6, 17)


def test_yaml_syntax_errors_have_positions_and_stop_there() -> None:
    issue = only(issues_of("version: 1\nrules:\n  - id: a\n   when: x\n"))
    assert issue.message.startswith("invalid YAML")
    assert issue.line == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the rules file is empty"),
        ("- just\n- a list\n", "the rules file is not a mapping"),
        ("version: 1\n---\nversion: 1\n", "invalid YAML"),
        ("version: !!python/object:os.system x\n", "invalid YAML"),
        ("a: 1\na: 2\nversion: 1\nrules: []\ndefault: nobody\n", "duplicate key 'a'"),
    ],
)
def test_odd_documents(text: str, message: str) -> None:
    assert any(issue.message.startswith(message) for issue in issues_of(text))


def test_yaml_1_2_scalars_keep_times_and_zero_leading_numbers_as_text() -> None:
    rules = rules_from(
        """\
        version: 1
        rules:
          - id: r
            when:
              room.name: 0123
              room.metadata.answer: no
              time: {timezone: UTC, from: 9:00, to: 17:00}
            then: nobody
        default: nobody
        """
    )
    field_tests = rules.rules[0].model.when.field_tests
    assert field_tests["room.name"].eq == "0123"
    assert field_tests["room.metadata.answer"].eq == "no"
    time = rules.rules[0].model.when.time
    assert time is not None and (time.from_, time.to) == ("9:00", "17:00")


def test_anchors_and_aliases_are_allowed() -> None:
    rules = rules_from(
        """\
        version: 1
        rules:
          - id: a
            when: {time: &hours {timezone: UTC, from: "09:00", to: "17:00"}}
            then: nobody
          - id: b
            when: {time: *hours}
            then: nobody
        default: nobody
        """
    )
    assert rules.rule_ids == ["a", "b"]


def test_rules_error_message_lists_every_issue() -> None:
    with pytest.raises(RulesError) as caught:
        load_rules("version: 3\nrules: 5\n")
    text = str(caught.value)
    assert text.startswith("rules file has 3 problems:")
    assert "<string>:1:10: unsupported rules file version 3" in text
