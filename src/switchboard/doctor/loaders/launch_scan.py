"""Launch scripts (Procfile, shell, Makefile, Dockerfile, compose, systemd) that start workers.

A script that starts one of Switchboard's bundled agents declares a worker as surely as code does.
`switchboard agent outbound-caller` registers `--agent-name` if given, else the `name` of its
section in the `--config` file (`outbound_caller.name`, `qualifier.name`) when that file is found
next to the script, else the agent's own name.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from switchboard.doctor.inventory import Inventory, Worker, WorkerForm

BUNDLED_AGENTS = ("qualifier", "outbound-caller")
_LAUNCH = re.compile(rf"\bswitchboard\s+agent\s+({'|'.join(BUNDLED_AGENTS)})\b")
_AGENT_NAME = re.compile(r"--agent-name[=\s]+['\"]?([\w.-]+)")
_CONFIG = re.compile(r"--config[=\s]+['\"]?([^\s'\"]+)")
_CONFIG_SECTION = {"qualifier": "qualifier", "outbound-caller": "outbound_caller"}
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
            rest = line[match.end() :]
            inventory.workers.append(
                Worker(
                    agent_name=_registered_name(path, match.group(1), rest),
                    form=WorkerForm.SWITCHBOARD_AGENT,
                    program=str(path),
                    source=f"{path}:{number}",
                )
            )
    if inventory.workers:
        inventory.files.append(str(path))
    return inventory


def _registered_name(path: Path, agent: str, arguments: str) -> str:
    if override := _AGENT_NAME.search(arguments):
        return override.group(1)
    if config := _CONFIG.search(arguments):
        candidate = path.parent / config.group(1)
        try:
            document = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return agent
        section = document.get(_CONFIG_SECTION[agent]) if isinstance(document, dict) else None
        if isinstance(section, dict) and isinstance(section.get("name"), str):
            return str(section["name"])
    return agent
