"""The CLI pieces: 'rules check' and 'simulate', driven through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from switchboard.rules.cli import rules_app, simulate

from .helpers import document, sip_call

EXAMPLES = Path(__file__).parents[3] / "examples" / "rules"

app = typer.Typer()
app.add_typer(rules_app, name="rules")
app.command("simulate")(simulate)
runner = CliRunner()


def test_check_prints_a_summary_with_native_rules() -> None:
    result = runner.invoke(app, ["rules", "check", str(EXAMPLES / "seed.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK, 2 rules, default: nobody" in result.stdout
    assert (
        "inbound-qualifier: native, SIP dispatch rule switchboard:inbound-qualifier"
        in result.stdout
    )
    assert "outbound-caller: webhook only" in result.stdout
    assert "1 of 2 rules native-compilable" in result.stdout


def test_check_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nrules:\n  - id: a\n    when: {room.nmae: x}\n"
        "    then: nobdy\ndefault: nobody\n"
    )
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:4:12: unknown field 'room.nmae' (hint: did you mean 'room.name'?)"
    assert lines[1].startswith(f"{path}:5:11: an action must be 'nobody'")
    assert lines[2] == f"{path}: 2 problems"


def test_check_warns_about_rules_without_an_event_and_unreachable_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        document(
            [
                {"id": "anything", "when": {}, "then": {"dispatch": ["a"]}},
                {"id": "later", "when": {"event": "room_started"}, "then": "nobody"},
            ]
        )
    )
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0
    assert "rule 'anything' has no 'event' condition" in result.stderr
    assert "rule 'later' is never reached: rule 'anything' matches all" in result.stderr


def test_check_finds_event_tests_nested_in_all(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    nested = {"all": [{"event": "room_started"}]}
    path.write_text(document([{"id": "nested", "when": nested, "then": {"dispatch": ["a"]}}]))
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0
    assert result.stderr == ""


def test_simulate_prints_the_decision_as_json_with_an_explanation(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(sip_call()))
    result = runner.invoke(app, ["simulate", str(EXAMPLES / "seed.yaml"), str(event)])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["rule"] == "inbound-qualifier"
    assert output["dispatch"] == [
        {"agent": "qualifier", "metadata": '{"flow":"inbound","line":"+19497710000"}'}
    ]
    assert output["explanation"].splitlines()[-1].startswith("decision: rule inbound-qualifier")


def test_simulate_reads_stdin_and_honours_now() -> None:
    rules = EXAMPLES / "business-hours.yaml"
    call = json.dumps(sip_call(caller="+15550000000"))
    day = runner.invoke(
        app, ["simulate", str(rules), "-", "--now", "2025-06-03T10:00:00+02:00"], input=call
    )
    night = runner.invoke(
        app, ["simulate", str(rules), "-", "--now", "2025-06-03T22:00:00+02:00"], input=call
    )
    assert json.loads(day.stdout)["rule"] == "business-hours"
    assert json.loads(night.stdout)["rule"] == "after-hours"


def test_simulate_fails_cleanly_on_bad_input(tmp_path: Path) -> None:
    rules = str(EXAMPLES / "seed.yaml")
    bad_json = runner.invoke(app, ["simulate", rules, "-"], input="{nope")
    assert bad_json.exit_code == 1
    assert bad_json.stderr.startswith("error: the webhook body is not valid JSON")
    missing = runner.invoke(app, ["simulate", rules, str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and "cannot read the event file" in missing.stderr
    bad_now = runner.invoke(app, ["simulate", rules, "-", "--now", "tuesday"], input="{}")
    assert bad_now.exit_code == 1 and "not an ISO 8601 time" in bad_now.stderr
    bad_rules = tmp_path / "r.yaml"
    bad_rules.write_text("version: 1\n")
    broken = runner.invoke(app, ["simulate", str(bad_rules), "-"], input="{}")
    assert broken.exit_code == 1 and "missing required key 'default'" in broken.stderr


def test_help_texts_describe_every_argument() -> None:
    check_help = runner.invoke(app, ["rules", "check", "--help"]).stdout
    assert "FILE:LINE:COLUMN" in check_help and "--room-prefix" in check_help
    simulate_help = runner.invoke(app, ["simulate", "--help"]).stdout
    assert "'-' reads stdin" in simulate_help and "--now" in simulate_help
