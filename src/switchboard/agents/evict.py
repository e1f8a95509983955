"""When a job process dies, the worker takes its agent out of the room at once.

livekit-agents sees a job process exit the moment it happens ("process exited with non-zero
exit code -9") and reports the job failed, but livekit-server keeps the dead agent's
participant in the room for about 20 s, until its media connection times out
(docs/livekit-semantics.md, n1): the caller looks attended while nobody is there, and the
service's watchdog cannot tell. The worker removes that participant (``RemoveParticipant``), so
the room shows the caller alone and the watchdog dispatches the agent again within seconds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit import api
from livekit.agents import AgentServer

logger = logging.getLogger("switchboard.agents")

_tasks: set[asyncio.Task[None]] = set()


def evict_dead_jobs(server: AgentServer) -> None:
    """Make ``server`` remove the participant of each job whose process dies (not one that
    ends normally: its agent has left already)."""

    def watch_processes() -> None:
        # livekit-agents emits a job process's exit only on its process pool, which it does not
        # expose; without it the dead agent is only noticed when the server drops it.
        pool = getattr(server, "_proc_pool", None)
        if pool is None or not hasattr(pool, "on"):
            logger.warning("cannot watch job processes: this livekit-agents has no process pool")
            return
        pool.on("process_closed", _on_process_closed)

    server.on("worker_started", watch_processes)


def _on_process_closed(process: Any) -> None:
    job = getattr(process, "running_job", None)
    status = getattr(process, "status", None)
    if job is None or getattr(status, "name", "") != "FAILED":
        return
    room, identity = job.job.room.name, job.accept_arguments.identity
    logger.warning(
        "job process died; removing its agent from the room",
        extra={"room": room, "identity": identity, "job_id": job.job.id},
    )
    task = asyncio.get_running_loop().create_task(_remove(room, identity))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _remove(room: str, identity: str) -> None:
    """``RemoveParticipant`` with the worker's own ``LIVEKIT_*`` credentials."""
    try:
        async with api.LiveKitAPI() as client:
            await client.room.remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            )
    except Exception as exc:  # gone already, or the server unreachable: it drops it in ~20 s
        logger.info("could not remove the dead agent", extra={"room": room, "error": str(exc)})
