"""Silencing findings by code: `--ignore`, a config file, and inline comments.

A config file is the nearest `pyproject.toml` with `[tool.switchboard.doctor]` or `switchboard.toml`
with `[doctor]`, found from each `--file` (and the working directory) upwards; both take
`ignore = ["SB202", ...]`. An inline comment `# switchboard: ignore[SB202]` (`//` in JS/TS) silences
the codes for findings whose evidence points at its line; alone on a line, it covers the next one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from switchboard.doctor.findings import Finding
from switchboard.doctor.inventory import InlineIgnore, Inventory

CODE = re.compile(r"^SB\d{3}$")
_INLINE = re.compile(r"(#|//)\s*switchboard:\s*ignore\[([A-Za-z0-9_,\s]*)\]")
_SOURCE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::|$)")
_CONFIG_FILES = (
    ("switchboard.toml", ("doctor",)),
    ("pyproject.toml", ("tool", "switchboard", "doctor")),
)


class SuppressionError(ValueError):
    """A config file or `--ignore` that cannot be used; the message says which and why."""


class SuppressedFinding(Finding):
    """A finding silenced on purpose, with what silenced it."""

    suppressed_by: str


@dataclass(frozen=True)
class Ignore:
    """Codes silenced everywhere, and where that was said (`--ignore`, a config file)."""

    codes: frozenset[str]
    origin: str


def check_codes(codes: Iterable[str], origin: str, known: Iterable[str]) -> frozenset[str]:
    """Upper-cased codes; an unknown code is an error naming where it came from."""
    wanted = frozenset(code.strip().upper() for code in codes if code.strip())
    unknown = sorted(wanted - set(known))
    if unknown:
        raise SuppressionError(
            f"{origin}: unknown check code(s) {', '.join(unknown)}; the codes are listed in "
            "docs/doctor.md (e.g. SB202)."
        )
    return wanted


def find_config_files(starts: Iterable[Path]) -> list[Path]:
    """The nearest config file above each start (a file's directory, or the directory itself)."""
    found: list[Path] = []
    for start in starts:
        directory = start.resolve() if start.is_dir() else start.resolve().parent
        for folder in (directory, *directory.parents):
            config = next((c for c in _candidates(folder) if _doctor_table(c) is not None), None)
            if config is not None:
                if config not in found:
                    found.append(config)
                break
    return found


def load_config_ignores(path: Path, known: Iterable[str]) -> Ignore:
    """The `ignore` list of one config file."""
    table = _doctor_table(path) or {}
    codes = table.get("ignore", [])
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise SuppressionError(f'{path}: `ignore` must be a list of codes, e.g. ["SB202"]')
    return Ignore(check_codes(codes, str(path), known), str(path))


def inline_ignores(path: Path, text: str) -> list[InlineIgnore]:
    """The `switchboard: ignore[...]` comments of one file."""
    found: list[InlineIgnore] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _INLINE.search(line)
        if match is None:
            continue
        codes = [code.strip().upper() for code in match.group(2).split(",") if code.strip()]
        own_line = line[: match.start()].strip() == ""
        target = number + 1 if own_line else number
        found.append(InlineIgnore(codes=codes, source=f"{path}:{target}"))
    return found


def apply_suppressions(
    findings: Sequence[Finding], inventory: Inventory, ignores: Sequence[Ignore]
) -> tuple[list[Finding], list[SuppressedFinding]]:
    """Split findings into those that count and those silenced (with what silenced them)."""
    inline: dict[str, list[InlineIgnore]] = {}
    for comment in inventory.inline_ignores:
        inline.setdefault(comment.source, []).append(comment)
    kept: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    for finding in findings:
        by = _suppressed_by(finding, inline, ignores)
        if by is None:
            kept.append(finding)
        else:
            suppressed.append(SuppressedFinding(**finding.model_dump(), suppressed_by=by))
    return kept, suppressed


def _suppressed_by(
    finding: Finding, inline: dict[str, list[InlineIgnore]], ignores: Sequence[Ignore]
) -> str | None:
    for ignore in ignores:
        if finding.code in ignore.codes:
            return ignore.origin
    for line in finding.evidence:
        match = _SOURCE.match(line)
        if match is None:
            continue
        where = f"{match.group('path')}:{match.group('line')}"
        for comment in inline.get(where, []):
            if finding.code in comment.codes:
                return f"{where}: switchboard: ignore[{', '.join(comment.codes)}]"
    return None


def _candidates(folder: Path) -> Iterable[Path]:
    return (folder / name for name, _ in _CONFIG_FILES)


def _doctor_table(path: Path) -> dict[str, object] | None:
    keys = dict(_CONFIG_FILES).get(path.name)
    if keys is None or not path.is_file():
        return None
    try:
        document: object = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SuppressionError(f"{path}: cannot read it as TOML ({error})") from error
    for key in keys:
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    if not isinstance(document, dict):
        raise SuppressionError(f"{path}: [{'.'.join(keys)}] must be a table")
    return document
