"""Every check has a fixture that triggers it (bad/) and one that passes (good/)."""

from __future__ import annotations

import pytest

from switchboard.doctor import CHECKS, Severity

from .conftest import FIXTURES, findings_for

EXPECTED_SEVERITY = {
    "SB001": Severity.WARNING,
    "SB101": Severity.ERROR,
    "SB102": Severity.WARNING,
    "SB103": Severity.WARNING,
    "SB104": Severity.WARNING,
    "SB105": Severity.INFO,
    "SB106": Severity.INFO,
    "SB107": Severity.WARNING,
    "SB108": Severity.ERROR,
    "SB109": Severity.INFO,
    "SB110": Severity.ERROR,
    "SB111": Severity.WARNING,
    "SB201": Severity.ERROR,
    "SB202": Severity.WARNING,
    "SB203": Severity.ERROR,
    "SB204": Severity.ERROR,
    "SB205": Severity.WARNING,
    "SB301": Severity.ERROR,
    "SB302": Severity.WARNING,
    "SB303": Severity.WARNING,
    "SB304": Severity.WARNING,
    "SB305": Severity.ERROR,
    "SB306": Severity.ERROR,
    "SB307": Severity.WARNING,
    "SB401": Severity.WARNING,
    "SB402": Severity.WARNING,
    "SB403": Severity.ERROR,
}
CODES = [check.code.code for check in CHECKS]


def test_every_registered_check_has_an_expected_severity() -> None:
    assert sorted(CODES) == sorted(EXPECTED_SEVERITY)


@pytest.mark.parametrize("code", CODES)
def test_bad_fixture_triggers_the_check(code: str) -> None:
    findings = [
        finding for finding in findings_for(FIXTURES / code / "bad") if finding.code == code
    ]

    assert findings, f"{code}/bad produced no {code} finding"
    worst = min(findings, key=lambda finding: list(Severity).index(finding.severity))
    assert worst.severity is EXPECTED_SEVERITY[code]
    for finding in findings:
        assert finding.fix.strip()
        assert finding.evidence
        assert finding.docs == f"docs/doctor.md#{code.lower()}"


@pytest.mark.parametrize("code", CODES)
def test_good_fixture_passes_the_check(code: str) -> None:
    findings = findings_for(FIXTURES / code / "good")

    assert [finding for finding in findings if finding.code == code] == []
