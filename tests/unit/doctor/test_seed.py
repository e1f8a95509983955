"""The seed user's own trunks, dispatch rule and workers, exactly as pasted."""

from __future__ import annotations

from switchboard.doctor import Finding, Severity, exit_code

from .conftest import FIXTURES, findings_for

SEED = FIXTURES / "seed"


def _only(findings: list[Finding], code: str, severity: Severity) -> list[Finding]:
    return [f for f in findings if f.code == code and f.severity is severity]


def test_reports_the_default_agent_leaking_into_the_second_room() -> None:
    (leak,) = _only(findings_for(SEED), "SB101", Severity.ERROR)

    assert "CreateDispatch" in leak.message and "'outbound-caller'" in leak.message
    assert any("qual_agent.py:27" in line for line in leak.evidence)
    assert any(
        "qual_agent.py:38" in line and "without agent_name" in line for line in leak.evidence
    )
    assert "CreateRoomRequest(name=new_room_name" in leak.fix
    assert 'RoomAgentDispatch(agent_name="outbound-caller"' in leak.fix
    assert "agent_name" in leak.fix


def test_the_shared_twilio_trunk_is_not_reported_when_every_dial_is_traced_outside() -> None:
    # outbound-caller dials json.loads(ctx.job.metadata)["phone_number"]; the only sender,
    # qual_agent.py, puts +15105550123 there: outside the project, so no SB202 noise.
    assert [f for f in findings_for(SEED) if f.code in ("SB201", "SB202")] == []


def test_reports_the_qualifier_recursing_into_the_rooms_it_creates() -> None:
    (recursion,) = _only(findings_for(SEED), "SB110", Severity.ERROR)

    assert any("qual_agent.py:27" in line for line in recursion.evidence)
    assert any("qual_agent.py:38" in line for line in recursion.evidence)


def test_reports_the_dispatch_rule_naming_a_missing_trunk_with_the_near_match() -> None:
    (missing,) = _only(findings_for(SEED), "SB204", Severity.ERROR)

    assert "ST_YYBW4eKVVVVV" in missing.message
    assert "Did you mean ST_YYBW4eVVVVV?" in missing.message
    assert "ST_YYBW4eVVVVV" in missing.fix


def test_reports_the_inbound_trunk_left_without_a_rule() -> None:
    (unrouted,) = _only(findings_for(SEED), "SB203", Severity.ERROR)

    assert "404" in unrouted.message
    assert any("ST_YYBW4eKVVVVV" in line for line in unrouted.evidence)


def test_the_dispatch_rule_without_agents_is_a_warning_and_the_legacy_form_info() -> None:
    findings = findings_for(SEED)

    assert _only(findings, "SB101", Severity.WARNING)
    assert len(_only(findings, "SB106", Severity.INFO)) == 2


def test_seed_exit_code_is_2_and_nothing_unexpected_is_reported() -> None:
    findings = findings_for(SEED)

    assert exit_code(findings) == 2
    assert sorted({f.code for f in findings}) == ["SB101", "SB106", "SB110", "SB203", "SB204"]
    assert not [f for f in findings if f.code == "SB103"]  # outbound-caller is dispatched
