"""Run a user's agent program (``python run_user_agent.py PROGRAM start``) unchanged, except
for how its worker reports load.

livekit-server offers jobs only to workers whose reported load is below its target_load, and
livekit-agents reports the machine's CPU use: on a busy 2-core test host dispatches would be
dropped at random (the bundled agents' ``--ignore-load``, docs/agents.md). Jobs run in threads
(``runpy`` leaves no importable ``__main__`` for job processes) and the health port is any free
one (the seed's ``port=7881`` is livekit-server's RTC TCP port on the local stack).
"""

from __future__ import annotations

import math
import runpy
import sys

from livekit.agents import AgentServer, JobExecutorType, WorkerOptions, cli

_run_app = cli.run_app


def _zero_load() -> float:
    return 0.0


def run_app(server: AgentServer | WorkerOptions) -> None:
    if isinstance(server, WorkerOptions):
        server.load_fnc = _zero_load
        server.load_threshold = math.inf
        server.job_executor_type = JobExecutorType.THREAD
        server.port = 0
    _run_app(server)


if __name__ == "__main__":
    program = sys.argv.pop(1)
    sys.path.insert(0, str(__import__("pathlib").Path(program).parent))
    cli.run_app = run_app  # type: ignore[assignment]
    runpy.run_path(program, run_name="__main__")
