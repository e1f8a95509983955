"""`switchboard doctor`: find dispatch, SIP, webhook and frontend mistakes in a LiveKit deployment.

Loaders turn files, the live server and a probe into one `Inventory`; every check is a pure
function `Inventory -> list[Finding]` registered in `CHECKS`.
"""

from switchboard.doctor.checks import CHECKS, run_checks
from switchboard.doctor.findings import Check, CheckCode, Finding, Severity, exit_code
from switchboard.doctor.inventory import Inventory, Limits, ProbeResult
from switchboard.doctor.live import load_from_server, probe
from switchboard.doctor.loaders import load_paths
from switchboard.doctor.report import render_json, render_table

__all__ = [
    "CHECKS",
    "Check",
    "CheckCode",
    "Finding",
    "Inventory",
    "Limits",
    "ProbeResult",
    "Severity",
    "exit_code",
    "load_from_server",
    "load_paths",
    "probe",
    "render_json",
    "render_table",
    "run_checks",
]
