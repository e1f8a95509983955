"""The check registry: every check is a pure function `Inventory -> list[Finding]`."""

from __future__ import annotations

from switchboard.doctor.checks import (
    agents,
    dispatch,
    frontend,
    lifecycle,
    sip,
    webhook_handlers,
)
from switchboard.doctor.findings import Check, CheckCode, Finding, Severity
from switchboard.doctor.inventory import Inventory

__all__ = ["CHECKS", "run_checks"]

UNREADABLE_INPUT = CheckCode("SB001", "Input could not be read")


def check_unreadable_input(inventory: Inventory) -> list[Finding]:
    """SB001: a file the doctor could not parse, so its view is incomplete."""
    return [
        UNREADABLE_INPUT.finding(
            Severity.WARNING,
            f"{problem.message}{f' (hint: {problem.hint})' if problem.hint else ''}; nothing "
            "from it was checked.",
            [problem.source],
            "Fix or remove the file; --file takes JSON exports of trunks and dispatch rules, "
            "Switchboard rules YAML, Python, JS/TS and .env files.",
        )
        for problem in inventory.problems
    ]


CHECKS: tuple[Check, ...] = (
    Check(UNREADABLE_INPUT, check_unreadable_input),
    Check(dispatch.DEFAULT_AGENT_LEAK, dispatch.check_default_agent_leak),
    Check(dispatch.RANDOM_ASSIGNMENT, dispatch.check_random_assignment),
    Check(agents.NEVER_DISPATCHED, agents.check_never_dispatched),
    Check(agents.NO_WORKER_FOR_DISPATCH, agents.check_no_worker_for_dispatch),
    Check(agents.NAME_FROM_ENVIRONMENT, agents.check_name_from_environment),
    Check(agents.LEGACY_RUN_APP, agents.check_legacy_run_app),
    Check(dispatch.NO_AGENT_DISPATCHED, dispatch.check_no_agent_dispatched),
    Check(dispatch.LEAKED_DISPATCH, dispatch.check_leaked_dispatch),
    Check(dispatch.UNNAMED_WORKER_REGISTERED, dispatch.check_unnamed_worker_registered),
    Check(dispatch.SELF_DISPATCH_RECURSION, dispatch.check_self_dispatch_recursion),
    Check(agents.DUPLICATE_AGENT_NAME, agents.check_duplicate_agent_name),
    Check(sip.DIALS_OWN_NUMBER, sip.check_dials_own_number),
    Check(sip.SHARED_CARRIER_TRUNK, sip.check_shared_carrier_trunk),
    Check(sip.TRUNK_WITHOUT_RULE, sip.check_trunk_without_rule),
    Check(sip.RULE_NAMES_MISSING_TRUNK, sip.check_rule_names_missing_trunk),
    Check(sip.UNMAPPED_ATTRIBUTE, sip.check_unmapped_attribute),
    Check(lifecycle.ROOM_CREATED_WEBHOOK, lifecycle.check_room_created_webhook),
    Check(lifecycle.AGENT_JOB_WEBHOOK, lifecycle.check_agent_job_webhook),
    Check(lifecycle.SHORT_ROOM_TIMEOUT, lifecycle.check_short_room_timeout),
    Check(lifecycle.HANDOFF_DELETES_ROOM, lifecycle.check_handoff_deletes_room),
    Check(webhook_handlers.ROOM_FROM_EVENT_DATA, webhook_handlers.check_room_from_event_data),
    Check(webhook_handlers.RECEIVE_NOT_AWAITED, webhook_handlers.check_receive_not_awaited),
    Check(
        webhook_handlers.CLIENT_WITHOUT_CREDENTIALS,
        webhook_handlers.check_client_without_credentials,
    ),
    Check(frontend.TOKEN_WITHOUT_AGENTS, frontend.check_token_without_agents),
    Check(frontend.ENDS_SESSION_ON_AGENT_LEAVE, frontend.check_ends_session_on_agent_leave),
    Check(frontend.AGENT_DID_NOT_JOIN, frontend.check_agent_did_not_join),
)


def run_checks(inventory: Inventory, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    """Run every check; findings sorted by severity (errors first), then code."""
    findings = [finding for check in checks for finding in check.run(inventory)]
    order = list(Severity)
    return sorted(findings, key=lambda finding: (order.index(finding.severity), finding.code))
