"""When the dispatcher may take a job's webhook as proof that its room is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from switchboard import defaults
from switchboard.service.dispatcher import room_is_proven
from switchboard.store import Job, JobStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FRESH = Job(
    job_id=1,
    room_name="support-1",
    room_sid="RM_1",
    agent_name="qualifier",
    metadata="",
    event_id="EV_1",
    status=JobStatus.CLAIMED,
    attempts=1,
    next_attempt_at=NOW,
    lease_owner="w",
    lease_expires_at=NOW + timedelta(seconds=30),
    last_error=None,
    dead_reason=None,
    outcome=None,
    server_answer=None,
    created_at=NOW,
    finished_at=None,
    room_seen_at=NOW - timedelta(seconds=1),
)


def test_a_fresh_first_attempt_with_a_room_sid_is_proven() -> None:
    assert room_is_proven(FRESH, NOW, max_attempts=6)


@pytest.mark.parametrize(
    "job",
    [
        pytest.param(replace(FRESH, attempts=2), id="a retry"),
        pytest.param(replace(FRESH, room_sid=""), id="no room sid"),
        pytest.param(replace(FRESH, room_seen_at=None), id="no proof from the store"),
        pytest.param(
            replace(FRESH, room_seen_at=NOW - timedelta(seconds=defaults.ROOM_PROOF_SECONDS)),
            id="as old as the bound",
        ),
        pytest.param(replace(FRESH, room_seen_at=NOW - timedelta(minutes=5)), id="stale"),
    ],
)
def test_anything_else_gets_the_full_check(job: Job) -> None:
    assert not room_is_proven(job, NOW, max_attempts=6)


def test_no_shortcut_when_a_failed_list_dispatch_could_not_be_retried() -> None:
    assert not room_is_proven(FRESH, NOW, max_attempts=1)
