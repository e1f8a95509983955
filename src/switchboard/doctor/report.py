"""Output: a rich table for people, JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from switchboard.doctor.findings import Finding, Severity, exit_code, worst_severity
from switchboard.doctor.inventory import Inventory

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_table(findings: Sequence[Finding], inventory: Inventory, console: Console) -> None:
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
    console.print(_summary_of_findings(findings))


def render_json(findings: Sequence[Finding], inventory: Inventory) -> str:
    """The findings and a summary as JSON: `{"findings": [...], "summary": {...}}`."""
    worst = worst_severity(findings)
    document = {
        "findings": [finding.model_dump(mode="json") for finding in findings],
        "summary": {
            "worst": worst.value if worst else None,
            "exit_code": exit_code(findings),
            "counts": {severity.value: _count(findings, severity) for severity in Severity},
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
