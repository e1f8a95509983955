"""Real livekit-agents worker processes, started against a real stack and always stopped."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack

PROBE_WORKER = Path(__file__).with_name("probe_worker.py")


@dataclass
class WorkerPool:
    """One worker process per agent name; "" is the unnamed (automatic dispatch) worker."""

    processes: dict[str, ManagedProcess]
    job_log: Path

    def jobs(self, room: str | None = None) -> list[dict[str, Any]]:
        if not self.job_log.exists():
            return []
        records = [json.loads(line) for line in self.job_log.read_text().splitlines() if line]
        return [r for r in records if room is None or r["room"] == room]

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()


def start_probe_workers(
    stack: Stack, names: list[str], workdir: Path, loads: dict[str, float] | None = None
) -> WorkerPool:
    job_log = workdir / "jobs.jsonl"
    processes: dict[str, ManagedProcess] = {}
    for name in names:
        label = name or "unnamed"
        env = {
            **stack.config.env(),
            "PROBE_AGENT_NAME": name,
            "PROBE_LABEL": label,
            "PROBE_JOB_LOG": str(job_log),
            "PROBE_LOAD": str((loads or {}).get(name, 0.0)),
        }
        # An inherited name would silently turn the unnamed worker into a named one.
        env.update({"LIVEKIT_AGENT_NAME": "", "LIVEKIT_AGENT_NAME_OVERRIDE": ""})
        process = ManagedProcess(
            name=f"worker-{label}",
            argv=[sys.executable, "-m", "livekit.agents", "start", str(PROBE_WORKER)],
            log_path=workdir / f"worker-{label}.log",
            env=env,
        )
        process.start()
        processes[name] = process
    pool = WorkerPool(processes, job_log)
    for process in processes.values():
        wait_registered(process)
    return pool


def wait_registered(process: ManagedProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.log_path.exists() and "registered worker" in process.log_path.read_text(
            errors="replace"
        ):
            return
        if not process.running():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not register in {timeout}s:\n{process.tail()}")
