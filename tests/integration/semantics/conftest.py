"""Every semantics test that uses the shared workers starts with a warm job process in each.

The tests are about which agents the server dispatches; how long a worker takes to spawn a job
process is not theirs to measure. A worker that just ran a job spawns its replacement process
then, which under load takes longer than the tests wait (docs/livekit-semantics.md, "Ready").
"""

from __future__ import annotations

import pytest

from tests.support.workers import WorkerPool


@pytest.fixture(autouse=True)
async def warm_probe_workers(request: pytest.FixtureRequest) -> None:
    if "probe_workers" in request.fixturenames:
        pool: WorkerPool = request.getfixturevalue("probe_workers")
        await pool.wait_warm()
