"""Admission control in the rules: ``limit``/``queue`` load with line-numbered errors, the
decision carries the limit, ``admit`` serves, queues in order or overflows, and a limited rule
never becomes a SIP dispatch rule or a join token's agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.rules import agents_for_join, compile_native
from switchboard.rules.admission_models import DEFAULT_OVERFLOW_MESSAGE, HoldAudio, OverflowKind
from switchboard.rules.decision import DecisionKind
from switchboard.rules.hold import HoldNotice

from .helpers import issues_of, rules_from, sip_call

QUEUED_RULES = """\
version: 1
rules:
  - id: sales-queue
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "+19497710077"
    then:
      dispatch: [qualifier]
      limit:
        calls: 3
        per: "{sip.trunkPhoneNumber}"
      queue:
        max_waiting: 2
        announce_every_seconds: 20
        overflow: {agent: voicemail}
default: nobody
"""


def _limited_decision():  # type: ignore[no-untyped-def]
    return rules_from(QUEUED_RULES).decide(sip_call("+19497710077"))


def test_a_limited_decision_carries_its_key_and_policy() -> None:
    decision = _limited_decision()
    assert decision.kind is DecisionKind.DISPATCH
    assert decision.admission is not None
    assert decision.admission.key == "agent:qualifier|+19497710077"
    assert decision.admission.calls == 3
    assert decision.admission.queue.overflow.kind is OverflowKind.AGENT


@pytest.mark.parametrize(
    ("serving", "waiting", "kind", "position"),
    [
        (0, 0, DecisionKind.DISPATCH, 0),
        (2, 0, DecisionKind.DISPATCH, 0),
        (3, 0, DecisionKind.QUEUED, 1),
        (3, 1, DecisionKind.QUEUED, 2),
        (1, 1, DecisionKind.QUEUED, 2),  # a free slot belongs to the first in line
        (3, 2, DecisionKind.OVERFLOW, 0),
    ],
)
def test_admit(serving: int, waiting: int, kind: DecisionKind, position: int) -> None:
    admitted = _limited_decision().with_admission(serving, waiting)
    assert admitted.kind is kind
    assert admitted.admitted is not None and admitted.admitted.position == position


def test_explain_and_json_show_the_queued_decision() -> None:
    queued = _limited_decision().with_admission(3, 1)
    text = queued.explain()
    assert "→ queued for qualifier" in text
    assert "3 served, 1 waiting → queued at position 2 (hold agent hold)" in text
    body = queued.to_json(include_trace=False)
    assert body["kind"] == "queued"
    assert body["admission"]["admitted"] == {
        "kind": "queued",
        "serving": 3,
        "waiting": 1,
        "position": 2,
    }
    overflow = _limited_decision().with_admission(3, 2).explain()
    assert "overflow: dispatch voicemail" in overflow


def test_an_unlimited_decision_is_unchanged() -> None:
    unlimited = QUEUED_RULES.split("      limit:")[0] + "default: nobody\n"
    decision = rules_from(unlimited).decide(sip_call("+19497710077"))
    assert decision.agent_names == ["qualifier"]
    assert decision.admission is None
    assert "kind" not in decision.to_json()
    assert decision.with_admission(9, 9) is decision


def test_a_missing_per_field_counts_under_the_agents_alone() -> None:
    rules = rules_from(QUEUED_RULES.replace("{sip.trunkPhoneNumber}", "{room.metadata.tenant}"))
    decision = rules.decide(sip_call("+19497710077"))
    assert decision.admission is not None and decision.admission.key == "agent:qualifier"
    assert len(decision.errors) == 1 and "limit.per" in decision.errors[0]


def test_limit_shorthand_and_queue_defaults() -> None:
    rules = rules_from(
        QUEUED_RULES.replace(
            """      limit:
        calls: 3
        per: "{sip.trunkPhoneNumber}"
      queue:
        max_waiting: 2
        announce_every_seconds: 20
        overflow: {agent: voicemail}
""",
            "      limit: 2\n",
        )
    )
    admission = rules.decide(sip_call("+19497710077")).admission
    assert admission is not None and admission.calls == 2 and admission.key == "agent:qualifier"
    assert admission.queue.max_waiting == 20 and admission.queue.hold_agent == "hold"
    assert admission.queue.hold_audio is HoldAudio.CHIME
    assert admission.queue.overflow.message == DEFAULT_OVERFLOW_MESSAGE


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("calls: 3", "calls: 0", 11, "limit.calls must be at least 1"),
        ("max_waiting: 2", "max_waiting: -1", 14, "max_waiting must be 0 or more"),
        ("announce_every_seconds: 20", "announce_every_seconds: 0", 15, "seconds >= 1"),
        ("{agent: voicemail}", "{agent: voicemail, message: bye}", 16, "exactly one of"),
        ("{agent: voicemail}", "ring", 16, "overflow must be 'hang_up' or a mapping"),
        ("max_waiting: 2", "max_waitin: 2", 14, "unknown key 'max_waitin'"),
        ('per: "{sip.trunkPhoneNumber}"', 'per: "{room.nme}"', 12, "unknown template field"),
    ],
)
def test_bad_admission_is_reported_at_its_line(old: str, new: str, line: int, message: str) -> None:
    issues = issues_of(QUEUED_RULES.replace(old, new))
    assert any(issue.line == line and message in issue.message for issue in issues), [
        str(issue) for issue in issues
    ]


def test_a_queue_needs_a_limit_and_a_limit_needs_an_agent() -> None:
    no_limit = QUEUED_RULES.replace(
        """      limit:
        calls: 3
        per: "{sip.trunkPhoneNumber}"
""",
        "",
    )
    [issue] = issues_of(no_limit)
    assert "a queue without a limit" in issue.message and issue.line == 9  # the 'then:'
    assert "limit: {calls: N}" in issue.hint
    nobody = QUEUED_RULES.replace("dispatch: [qualifier]", "dispatch: []")
    [issue] = issues_of(nobody)
    assert "dispatches nobody" in issue.message


def test_a_limited_rule_is_never_native_nor_in_a_join_token() -> None:
    rules = rules_from(QUEUED_RULES)
    report = compile_native(rules)
    assert report.native_rule_ids == frozenset()
    assert "has a limit" in report.webhook_only[0].reason
    call = sip_call("+19497710077")["participant"]
    agents = agents_for_join(
        rules, "call_x", identity=call["identity"], attributes=call["attributes"], kind="SIP"
    )
    assert agents == []


def test_hold_notice_round_trips_and_tolerates_garbage() -> None:
    notice = HoldNotice(3, HoldAudio.SILENCE, 12, ("qualifier",), "bye")
    assert HoldNotice.from_json(notice.to_json()) == notice
    assert HoldNotice.from_json("not json") == HoldNotice()
    assert HoldNotice.from_json('{"position": "3", "hold_audio": "jazz"}') == HoldNotice()


def test_simulate_serving_shows_the_queued_decision(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(QUEUED_RULES)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(sip_call("+19497710077")))
    args = ["simulate", str(rules), str(event), "--serving", "3", "--waiting", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["kind"] == "queued" and body["admission"]["admitted"]["position"] == 2
    plain = CliRunner().invoke(app, ["simulate", str(rules), str(event)])
    assert json.loads(plain.output)["kind"] == "dispatch"
