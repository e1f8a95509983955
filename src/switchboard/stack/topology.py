"""Which livekit-server node of a multi-node stack is which, and which node hosts a room.

LiveKit's Redis router keeps the nodes in the ``nodes`` hash and the room placement in the
``room_node_map`` hash (room name -> node id); each node logs its id when it starts. These are
read for tests and ``stack status``, never written.
"""

from __future__ import annotations

import json
import re
import subprocess

from switchboard.errors import StackError
from switchboard.stack.config import LiveKitNode
from switchboard.stack.stack import Stack

_STARTED = re.compile(r"starting LiveKit server\s+(\{.*\})")
ROOM_NODE_MAP = "room_node_map"
NODES = "nodes"


def node_id(stack: Stack, node: LiveKitNode) -> str:
    """The id (``ND_...``) ``node`` logged when it started."""
    log = stack.log_path(node.name)
    for line in log.read_text(errors="replace").splitlines():
        found = _STARTED.search(line)
        if found:
            node_id: str = json.loads(found.group(1))["nodeID"]
            return node_id
    raise StackError(f"{node.name} logged no 'starting LiveKit server' line in {log}")


def node_numbers(stack: Stack) -> dict[str, int]:
    """Node id -> node number, for every node of the stack."""
    return {node_id(stack, node): node.number for node in stack.config.livekit_nodes}


def registered_node_ids(stack: Stack) -> set[str]:
    """The node ids Redis lists as live (a node removes itself when it stops cleanly)."""
    return set(_redis(stack, "HKEYS", NODES).split())


def room_placement(stack: Stack) -> dict[str, int]:
    """Room name -> number of the node Redis routes it to, for every room Redis knows."""
    numbers = node_numbers(stack)
    lines = [line for line in _redis(stack, "HGETALL", ROOM_NODE_MAP).splitlines() if line]
    pairs = zip(lines[::2], lines[1::2], strict=True)
    return {room: numbers.get(node, 0) for room, node in pairs}


def _redis(stack: Stack, *command: str) -> str:
    result = subprocess.run(
        ["redis-cli", "-p", str(stack.config.ports.redis), "--raw", *command],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"redis-cli {' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout
