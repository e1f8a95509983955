"""Findings, severities and the check registry's building blocks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from switchboard.doctor.inventory import Inventory

DOCS_PAGE = "docs/doctor.md"


class Severity(StrEnum):
    """How bad a finding is; the worst one decides the process exit code."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def exit_code(self) -> int:
        """2 for error, 1 for warning, 0 for info."""
        return {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}[self]


class Finding(BaseModel):
    """One problem: what goes wrong, where the evidence is, and the fix."""

    code: str
    severity: Severity
    title: str
    message: str
    evidence: list[str]
    fix: str
    docs: str


@dataclass(frozen=True)
class CheckCode:
    """A stable check code and its title; makes findings that link to the docs."""

    code: str
    title: str

    @property
    def docs(self) -> str:
        """The docs anchor for this code, e.g. `docs/doctor.md#sb101`."""
        return f"{DOCS_PAGE}#{self.code.lower()}"

    def finding(
        self, severity: Severity, message: str, evidence: Sequence[str], fix: str
    ) -> Finding:
        """A finding of this code."""
        return Finding(
            code=self.code,
            severity=severity,
            title=self.title,
            message=message,
            evidence=list(evidence),
            fix=fix,
            docs=self.docs,
        )


@dataclass(frozen=True)
class Check:
    """A registered check: a code and a pure function over the inventory."""

    code: CheckCode
    run: Callable[[Inventory], list[Finding]]


def worst_severity(findings: Sequence[Finding]) -> Severity | None:
    """The most severe severity among `findings`, or None when there are none."""
    for severity in Severity:
        if any(finding.severity is severity for finding in findings):
            return severity
    return None


def exit_code(findings: Sequence[Finding]) -> int:
    """The process exit code: 0 for none or info, 1 for warnings, 2 for errors."""
    worst = worst_severity(findings)
    return worst.exit_code if worst else 0
