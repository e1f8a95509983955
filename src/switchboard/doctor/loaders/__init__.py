"""Loaders: turn files (JSON exports, rules YAML, Python, JS/TS, .env) into an Inventory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from switchboard.doctor.inventory import Inventory
from switchboard.doctor.loaders.exports import load_export_file, load_export_objects
from switchboard.doctor.loaders.launch_scan import is_launch_file, scan_launch_text
from switchboard.doctor.loaders.python_scan import scan_python_file
from switchboard.doctor.loaders.rules_file import is_rules_document, load_rules_file
from switchboard.doctor.loaders.web_scan import (
    WEB_SUFFIXES,
    is_env_file,
    scan_env_file,
    scan_web_file,
)
from switchboard.doctor.suppressions import inline_ignores
from switchboard.errors import Problem

__all__ = ["load_export_objects", "load_paths"]

_SKIPPED_DIRECTORIES = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".next",
        "dist",
        "build",
        ".mypy_cache",
    }
)


def load_paths(paths: Iterable[Path]) -> Inventory:
    """Load every file given; a directory means the files under it (vendored folders skipped)."""
    parts = [_load_file(path, explicit) for path, explicit in _expand(paths)]
    return Inventory().merge(*parts)


def _expand(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not _SKIPPED_DIRECTORIES.intersection(relative):
                    yield child, False
        else:
            yield path, True


def _load_file(path: Path, explicit: bool) -> Inventory:
    try:
        inventory = _load_by_kind(path, explicit)
        if inventory.files and path.suffix.lower() != ".json":
            inventory.inline_ignores.extend(inline_ignores(path, path.read_text(encoding="utf-8")))
        return inventory
    except (OSError, UnicodeDecodeError) as error:
        return Inventory(problems=[Problem(str(path), message=f"cannot read: {error}")])


def _load_by_kind(path: Path, explicit: bool) -> Inventory:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_export_file(path, explicit=explicit)
    if suffix in (".yaml", ".yml"):
        text = path.read_text(encoding="utf-8")
        if is_rules_document(text):
            return load_rules_file(path)
        if (launches := scan_launch_text(path, text)).workers:
            return launches
        problem = "not a Switchboard rules file (no top-level `version:` and `rules:`)"
        return _skipped(path, explicit, problem)
    if suffix == ".py":
        return scan_python_file(path)
    if suffix in WEB_SUFFIXES:
        return scan_web_file(path)
    if is_env_file(path):
        return scan_env_file(path)
    if is_launch_file(path):
        launches = scan_launch_text(path, path.read_text(encoding="utf-8"))
        if launches.workers or not explicit:
            return launches
    return _skipped(path, explicit, "unsupported file type")


def _skipped(path: Path, explicit: bool, problem: str) -> Inventory:
    if not explicit:
        return Inventory()
    return Inventory(problems=[Problem(str(path), 1, message=problem)])
