"""``switchboard rules check FILE``, ``rules apply --sip`` and ``switchboard simulate RULES EVENT``.

The main CLI mounts ``rules_app`` as ``rules`` and ``simulate`` as a top-level command. ``apply``
talks to LiveKit, so it imports the LiveKit adapters and the settings when it runs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from switchboard.cli_errors import reports_errors
from switchboard.errors import InputError, SwitchboardError
from switchboard.rules.condition_models import Condition
from switchboard.rules.engine import CompiledRules
from switchboard.rules.event import RoomEvent
from switchboard.rules.loader import load_rules
from switchboard.rules.models import Action
from switchboard.rules.native import compile_native
from switchboard.rules.sipplan import SipDispatchRule, diff

rules_app = typer.Typer(
    help="Check and explain Switchboard rules files (docs/rules.md has the reference).",
    no_args_is_help=True,
)

RulesFileArgument = Annotated[
    Path,
    typer.Argument(help="The rules YAML file (version: 1).", dir_okay=False, show_default=False),
]


class NothingToApply(SwitchboardError):
    """``rules apply`` without ``--sip``: SIP dispatch rules are all it applies (exit 1)."""


RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules YAML file (default: $SWITCHBOARD_RULES).", dir_okay=False),
]


@rules_app.command("check")
@reports_errors("rules")
def check(
    file: RulesFileArgument,
    room_prefix: Annotated[
        str, typer.Option(help="Room prefix the compiled SIP dispatch rules would use.")
    ] = "call",
) -> None:
    """Validate a rules file and show how each rule will run.

    Prints every problem as FILE:LINE:COLUMN: message (hint: ...) and exits 1.

    On success prints the rule count and the default action, then each rule:
    native (compiled to a SIP dispatch rule named switchboard:<rule id>)
    or webhook only, with the reason. Warnings go to stderr. Exits 0.

    \b
    Example:
      switchboard rules check examples/rules/seed.yaml
    """
    rules = load_rules(file)
    report = compile_native(rules, room_prefix=room_prefix)
    native = {rule.rule_id: rule for rule in report.sip_rules}
    reasons = {item.rule_id: item.reason for item in report.webhook_only}
    noun = "rule" if len(rules) == 1 else "rules"
    typer.echo(f"{file}: OK, {len(rules)} {noun}, default: {_agents(rules.model.default)}")
    for rule in rules.rules:
        if rule.id in native:
            sip = native[rule.id]
            typer.echo(f"  {rule.id}: native, SIP dispatch rule {sip.name}{_routing(sip)}")
        else:
            typer.echo(f"  {rule.id}: webhook only ({reasons[rule.id]})")
    typer.echo(f"{len(native)} of {len(rules)} {noun} native-compilable")
    for warning in lint(rules):
        typer.echo(f"warning: {warning}", err=True)


@reports_errors("simulate")
def simulate(
    rules: RulesFileArgument,
    event: Annotated[
        str,
        typer.Argument(
            help="Webhook event JSON file, as livekit-server posts it; '-' reads stdin.",
            show_default=False,
        ),
    ],
    now: Annotated[
        str | None,
        typer.Option(
            help="Decision time, ISO 8601 (e.g. 2025-06-02T10:30:00+02:00; UTC if no offset). "
            "Default: the event's createdAt, else the current time."
        ),
    ] = None,
    serving: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="For a rule with a limit: callers already being served under it. Shows "
            "whether this one is dispatched, queued (at which position) or overflows.",
        ),
    ] = None,
    waiting: Annotated[
        int, typer.Option(min=0, help="With --serving: callers already waiting in its queue.")
    ] = 0,
) -> None:
    """Decide which agents a webhook event dispatches, and explain why.

    Prints the decision as JSON: the matched rule (or "default"),
    the dispatches with their rendered metadata, render errors,
    under a limit its kind (dispatch, queued, overflow) and admission,
    a trace of every condition evaluated with the value it saw,
    and the same account as readable text under "explanation".

    Exits 1 when the rules file, the event or --now cannot be read.

    \b
    Examples:
      switchboard simulate rules.yaml event.json
      switchboard simulate rules.yaml - < event.json
      switchboard simulate rules.yaml event.json --now 2025-06-03T10:00+02:00
      switchboard simulate examples/rules/queue.yaml call.json --serving 3 --waiting 2
    """
    compiled = load_rules(rules)
    when = _parse_now(now) if now is not None else None
    try:
        text = sys.stdin.read() if event == "-" else Path(event).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the event file {event}: {exc.strerror or exc}") from None
    room_event = RoomEvent.from_webhook_json(text)
    decision = compiled.decide(room_event, when)
    if serving is not None:
        decision = decision.with_admission(serving, waiting)
    output = decision.to_json() | {"explanation": decision.explain()}
    typer.echo(json.dumps(output, indent=2, ensure_ascii=False))


@rules_app.command("apply")
@reports_errors("rules")
def apply(
    sip: Annotated[bool, typer.Option("--sip", help="Apply the SIP dispatch rules.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Make the changes (default: dry run).")
    ] = False,
    rules: RulesOption = None,
    room_prefix: Annotated[str, typer.Option(help="Room prefix of the SIP rules.")] = "call",
) -> None:
    """Sync the server's switchboard:* SIP dispatch rules with the rules file (dry run).

    Prints the plan (create / update / delete); --yes makes the changes. Rules not named
    switchboard:* are never touched.
    """
    from switchboard.livekit import LiveKitClient, apply_sip_plan, list_sip_dispatch_rules
    from switchboard.settings import load_settings

    if not sip:
        raise NothingToApply("nothing to apply: pass --sip")
    settings = load_settings(rules=rules)
    compiled = load_rules(settings.require_rules())
    settings.require_livekit()
    desired = compile_native(compiled, room_prefix=room_prefix).sip_rules
    secret = settings.livekit_api_secret.get_secret_value()

    async def run() -> list[str]:
        async with LiveKitClient(settings.livekit_url, settings.livekit_api_key, secret) as client:
            plan = diff(desired, await list_sip_dispatch_rules(client))
            typer.echo(plan.summary())
            if not yes or plan.is_empty:
                return []
            return await apply_sip_plan(client, plan)

    done = asyncio.run(run())
    if not yes:
        typer.echo("dry run: pass --yes to apply", err=True)
    for line in done:
        typer.echo(line)


def lint(rules: CompiledRules) -> list[str]:
    """Warnings about rules that load but probably do not do what was meant."""
    warnings = []
    catch_all: str | None = None
    for rule in rules.rules:
        if catch_all is not None:
            warnings.append(f"rule '{rule.id}' is never reached: rule '{catch_all}' matches all")
            continue
        when = rule.model.when
        if _matches_everything(when):
            catch_all = rule.id
        if rule.dispatches and "event" not in _required_fields(when):
            warnings.append(
                f"rule '{rule.id}' has no 'event' condition, so it can dispatch on both "
                "room_started and participant_joined; add e.g. 'event: participant_joined'"
            )
    return warnings


def _required_fields(when: Condition) -> set[str]:
    fields = {test.field for test in when.field_tests.values()}
    for child in when.all_ or ():
        fields |= _required_fields(child)
    return fields


def _matches_everything(when: Condition) -> bool:
    nested = (when.any_, when.not_, when.time, when.percentage)
    return (
        not when.field_tests
        and all(part is None for part in nested)
        and all(_matches_everything(child) for child in when.all_ or ())
    )


def _parse_now(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--now {text!r} is not an ISO 8601 time; write e.g. 2025-06-02T10:30:00+02:00"
        ) from None


def _agents(action: Action) -> str:
    agents = ", ".join(spec.agent for spec in action.dispatch)
    return f"dispatch {agents}" if agents else "nobody"


def _routing(rule: SipDispatchRule) -> str:
    parts = [
        f"{label}={','.join(values)}"
        for label, values in (
            ("numbers", rule.numbers),
            ("inbound_numbers", rule.inbound_numbers),
            ("trunk_ids", rule.trunk_ids),
        )
        if values
    ]
    return f" ({'; '.join(parts)})" if parts else " (all calls)"
