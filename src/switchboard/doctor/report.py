"""Output: linter-style text (the default), a rich table, and JSON for machines.

The text form is the one ruff and mypy use: `path:line: CODE severity: title`, then the
explanation, the other evidence and the fix, indented and wrapped to the terminal (at most 100
columns), so it reads at 80 columns and editors can jump to the location.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from enum import StrEnum

from rich.console import Console
from rich.table import Table
from rich.text import Text

from switchboard.doctor.findings import Finding, Severity, exit_code, worst_severity
from switchboard.doctor.inventory import Inventory
from switchboard.doctor.suppressions import SuppressedFinding

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_LOCATION = re.compile(r"^(?P<where>.+?:\d+|server: [^:]+|probe): (?P<what>.*)$")
_MAX_WIDTH = 100
_INDENT = "    "


class OutputFormat(StrEnum):
    """How `switchboard doctor` prints its findings."""

    TEXT = "text"
    TABLE = "table"
    JSON = "json"


def split_location(evidence: str) -> tuple[str, str]:
    """`("path:line", "what")` for a `path:line: what` evidence line (`server: x`, `probe` too)."""
    match = _LOCATION.match(evidence)
    if match is None:
        return "", evidence
    return match.group("where"), match.group("what")


def render_text(
    findings: Sequence[Finding],
    inventory: Inventory,
    console: Console,
    suppressed: Sequence[SuppressedFinding] = (),
) -> None:
    """Print findings like a linter: a location line per finding, then why, evidence, fix."""
    width = max(60, min(console.width, _MAX_WIDTH))
    for finding in findings:
        where, first = split_location(finding.evidence[0]) if finding.evidence else ("", "")
        head = Text(f"{where or 'doctor'}: ", style="bold")
        head.append(finding.code, style=_STYLES[finding.severity])
        head.append(f" {finding.severity}: ", style=_STYLES[finding.severity])
        head.append(finding.title, style="bold")
        console.print(head, soft_wrap=True)
        if where and first:
            console.print(_block("here: ", first, width), soft_wrap=True)
        console.print(_block("why: ", finding.message, width), soft_wrap=True)
        for line in finding.evidence[1:] if where else finding.evidence:
            console.print(_block("see: ", line, width), soft_wrap=True)
        console.print(_block("fix: ", finding.fix, width), soft_wrap=True)
        console.print(Text(f"{_INDENT}docs: {finding.docs}", style="dim"), soft_wrap=True)
        console.print()
    console.print(_summary_of_inputs(inventory), width=width)
    summary = _summary_of_findings(findings) if findings else Text("No problems found.", "green")
    if suppressed:
        summary.append(f" {len(suppressed)} suppressed (listed by --json).", style="dim")
    console.print(summary, soft_wrap=True)


def _block(label: str, text: str, width: int) -> Text:
    return Text(
        textwrap.fill(
            text,
            width=width,
            initial_indent=f"{_INDENT}{label}",
            subsequent_indent=_INDENT + " " * len(label),
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def render_table(
    findings: Sequence[Finding],
    inventory: Inventory,
    console: Console,
    suppressed: Sequence[SuppressedFinding] = (),
) -> None:
    """Print the findings as a table, then a one-line summary of what was read."""
    console.print(_summary_of_inputs(inventory))
    if not findings:
        console.print(Text("No problems found.", style="green"))
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("Code", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Problem", ratio=3, overflow="fold")
    table.add_column("Evidence", ratio=2, overflow="fold")
    table.add_column("Fix", ratio=3, overflow="fold")
    for finding in findings:
        problem = Text(finding.title, style="bold")
        problem.append(f"\n{finding.message}", style="default")
        problem.append(f"\n{finding.docs}", style="dim")
        table.add_row(
            Text(finding.code, style=_STYLES[finding.severity]),
            Text(finding.severity, style=_STYLES[finding.severity]),
            problem,
            Text("\n".join(finding.evidence)),
            Text(finding.fix),
        )
    console.print(table)
    summary = _summary_of_findings(findings)
    if suppressed:
        summary.append(f" {len(suppressed)} suppressed (listed by --json).", style="dim")
    console.print(summary)


def render_json(
    findings: Sequence[Finding],
    inventory: Inventory,
    suppressed: Sequence[SuppressedFinding] = (),
) -> str:
    """`{"findings": [...], "suppressed": [...], "summary": {...}}`; the summary counts findings."""
    worst = worst_severity(findings)
    document = {
        "findings": [finding.model_dump(mode="json") for finding in findings],
        "suppressed": [finding.model_dump(mode="json") for finding in suppressed],
        "summary": {
            "worst": worst.value if worst else None,
            "exit_code": exit_code(findings),
            "counts": {severity.value: _count(findings, severity) for severity in Severity},
            "suppressed": len(suppressed),
            "files": inventory.files,
            "server": inventory.server_url,
            "probe": inventory.probe.room if inventory.probe else None,
        },
    }
    return json.dumps(document, indent=2)


def _summary_of_inputs(inventory: Inventory) -> Text:
    parts = [
        f"{len(inventory.files)} file(s)",
        f"{len(inventory.inbound_trunks)} inbound / {len(inventory.outbound_trunks)} outbound "
        f"trunk(s)",
        f"{len(inventory.dispatch_rules)} dispatch rule(s)",
        f"{len(inventory.workers)} worker(s)",
    ]
    if inventory.server_url:
        parts.append(f"server {inventory.server_url} ({len(inventory.server_rooms)} room(s))")
    if inventory.probe:
        parts.append(f"probe room {inventory.probe.room}")
    return Text("Checked " + ", ".join(parts) + ".", style="dim")


def _summary_of_findings(findings: Sequence[Finding]) -> Text:
    counts = ", ".join(f"{_count(findings, severity)} {severity.value}(s)" for severity in Severity)
    return Text(f"{len(findings)} finding(s): {counts}.", style="bold")


def _count(findings: Sequence[Finding], severity: Severity) -> int:
    return sum(1 for finding in findings if finding.severity is severity)
