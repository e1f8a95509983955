"""Launch scripts (Procfile, shell, Makefile, Dockerfile, compose, systemd) that start workers.

Switchboard's bundled agents register a fixed agent_name (`switchboard agent outbound-caller`
registers "outbound-caller"), so a script that starts one declares a worker as surely as code does.
"""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.doctor.inventory import Inventory, Worker, WorkerForm

BUNDLED_AGENTS = ("qualifier", "outbound-caller")
_LAUNCH = re.compile(rf"\bswitchboard\s+agent\s+({'|'.join(BUNDLED_AGENTS)})\b")
_NAMES = frozenset({"Procfile", "Makefile", "Dockerfile", "justfile"})
_SUFFIXES = frozenset({".sh", ".bash", ".service", ".yml", ".yaml", ".toml", ".cfg", ".conf"})


def is_launch_file(path: Path) -> bool:
    """True for files that commonly start processes."""
    return path.name in _NAMES or path.suffix.lower() in _SUFFIXES


def scan_launch_text(path: Path, text: str) -> Inventory:
    """The bundled agents a launch file starts, as workers."""
    inventory = Inventory()
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _LAUNCH.finditer(line):
            inventory.workers.append(
                Worker(
                    agent_name=match.group(1),
                    form=WorkerForm.SWITCHBOARD_AGENT,
                    program=str(path),
                    source=f"{path}:{number}",
                )
            )
    if inventory.workers:
        inventory.files.append(str(path))
    return inventory
