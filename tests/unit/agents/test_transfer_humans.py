"""Transfer targets with several humans: the YAML form, its errors at file:line, the job."""

from __future__ import annotations

import pytest

from switchboard.agents.config import DIAL_SETUP_SECONDS, AgentsConfigError, parse_config
from switchboard.agents.jobs import OutboundCallJob
from switchboard.handoff import RingMode

MINIMAL = """\
qualifier:
  greeting: Hi
  questions:
    - id: owner
      kind: yes_no
      prompt: Do you own it?
transfer:
  targets:
"""

TEAM = (
    MINIMAL
    + """\
    team:
      display_name: Sales team
      sip_trunk_id: ST_main
      ring: simultaneous
      busy_wait_seconds: 20
      humans:
        - {number: '+15550100001', ring_seconds: 10}
        - {number: '+15550100002', sip_trunk_id: ST_other, display_name: Bob}
"""
)


def problems(text: str) -> list[str]:
    with pytest.raises(AgentsConfigError) as info:
        parse_config(text, "agents.yaml")
    return [str(issue) for issue in info.value.issues]


def test_humans_inherit_the_targets_trunk_and_name() -> None:
    target = parse_config(TEAM).transfer.targets["team"]
    assert target.configured
    assert target.ring is RingMode.SIMULTANEOUS
    lines = target.lines()
    assert [(h.number, h.sip_trunk_id, h.ring_seconds, h.display_name) for h in lines] == [
        ("+15550100001", "ST_main", 10, "Sales team"),
        ("+15550100002", "ST_other", 20, "Bob"),
    ]


def test_one_number_is_one_line_with_the_targets_ringing_timeout() -> None:
    text = MINIMAL + (
        "    desk: {display_name: Desk, sip_trunk_id: ST_x, number: '+15550100',"
        " ringing_timeout_seconds: 12}\n"
    )
    target = parse_config(text).transfer.targets["desk"]
    assert target.ring is RingMode.SEQUENTIAL
    ((line),) = target.lines()
    assert (line.number, line.sip_trunk_id, line.ring_seconds) == ("+15550100", "ST_x", 12)


def test_the_qualifier_waits_for_every_ring_and_brief_of_a_list() -> None:
    single = parse_config(
        MINIMAL + "    desk: {display_name: Desk, sip_trunk_id: ST_x, number: '+15550100'}\n"
    ).transfer.targets["desk"]
    assert single.transfer_allowance() == single.decision_seconds  # as before humans existed
    team = parse_config(TEAM).transfer.targets["team"]
    assert team.transfer_allowance() == 45 + 20 + DIAL_SETUP_SECONDS + 20  # the longest ring
    sequential = parse_config(TEAM.replace("simultaneous", "sequential")).transfer.targets["team"]
    assert sequential.transfer_allowance() == 2 * 45 + 10 + 20 + 2 * DIAL_SETUP_SECONDS + 20


def test_ring_must_be_sequential_or_simultaneous() -> None:
    (found,) = problems(TEAM.replace("simultaneous", "together"))
    assert found.startswith("agents.yaml:12: transfer.targets.team.ring")
    assert "sequential" in found


def test_a_human_number_must_be_dialable_and_is_located() -> None:
    (found,) = problems(TEAM.replace("'+15550100002'", "'call bob'"))
    assert found.startswith("agents.yaml:16: transfer.targets.team.humans[1]")
    assert "neither E.164" in found


def test_humans_and_number_are_exclusive() -> None:
    (found,) = problems(TEAM.replace("ring: simultaneous", "number: '+15550100003'"))
    assert "either number or humans" in found


def test_humans_need_a_trunk() -> None:
    (found,) = problems(TEAM.replace("      sip_trunk_id: ST_main\n", ""))
    assert "humans [0] have no sip_trunk_id" in found


def test_a_human_listed_twice_is_an_error() -> None:
    (found,) = problems(TEAM.replace("+15550100002", "+15550100001"))
    assert "listed twice" in found


def test_humans_need_a_warm_handoff_in_the_callers_room() -> None:
    (found,) = problems(TEAM.replace("ring: simultaneous", "handoff: direct"))
    assert "handoff: warm and room: caller" in found


def test_the_caller_hears_what_happened_before_the_callback_offer() -> None:
    fallback = parse_config(TEAM).transfer.fallback
    assert fallback.message_for("human_left") == (
        f"{fallback.outcome_say['human_left']} {fallback.callback_say}"
    )
    assert fallback.message_for("all_busy").endswith(fallback.callback_say)
    assert fallback.message_for("busy") == fallback.callback_say  # unchanged


def test_the_job_carries_the_humans_and_the_ring_mode() -> None:
    target = parse_config(TEAM).transfer.targets["team"]
    job = OutboundCallJob(
        number="+15550100001",
        sip_trunk_id="ST_main",
        humans=target.lines(),
        ring=target.ring,
        busy_wait_seconds=target.busy_wait_seconds,
        handoff="warm",
    )
    parsed = OutboundCallJob.parse(job.to_metadata())
    assert parsed.humans == target.lines()
    assert parsed.ring is RingMode.SIMULTANEOUS
    assert parsed.busy_wait_seconds == 20
