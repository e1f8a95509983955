"""The outbound-caller's one mapping from a job's mode (and hand-off) to the call that runs it."""

from __future__ import annotations

import pytest

from switchboard.agents.direct_call import DirectCall
from switchboard.agents.jobs import OutboundCallJob
from switchboard.agents.outbound_caller import call_class_for
from switchboard.agents.representative_call import RepresentativeCall
from switchboard.agents.warm_call import WarmCall


@pytest.mark.parametrize(
    ("fields", "call"),
    [
        ({}, DirectCall),
        ({"handoff": "direct"}, DirectCall),
        ({"handoff": "warm"}, WarmCall),
        ({"mode": "representative"}, RepresentativeCall),
        ({"mode": "representative", "handoff": "warm"}, RepresentativeCall),
    ],
)
def test_each_mode_runs_its_own_call(fields: dict[str, str], call: type) -> None:
    job = OutboundCallJob.model_validate(
        {"number": "+15550100200", "sip_trunk_id": "ST_a", **fields}
    )
    assert call_class_for(job) is call
