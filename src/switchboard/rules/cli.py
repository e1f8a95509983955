"""``switchboard rules check FILE`` and ``switchboard simulate RULES EVENT``.

The main CLI mounts ``rules_app`` as ``rules`` and ``simulate`` as a top-level command.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from switchboard.rules.condition_models import Condition
from switchboard.rules.engine import CompiledRules
from switchboard.rules.errors import EventError, RulesError
from switchboard.rules.event import RoomEvent
from switchboard.rules.loader import load_rules
from switchboard.rules.models import Action
from switchboard.rules.native import compile_native
from switchboard.rules.sipplan import SipDispatchRule

rules_app = typer.Typer(
    help="Check and explain Switchboard rules files (docs/rules.md has the reference).",
    no_args_is_help=True,
)

RulesFileArgument = Annotated[
    Path,
    typer.Argument(help="The rules YAML file (version: 1).", dir_okay=False, show_default=False),
]


@rules_app.command("check")
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
    rules = _load_or_exit(file)
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
    compiled = _load_or_exit(rules)
    when = _parse_now(now) if now is not None else None
    try:
        text = sys.stdin.read() if event == "-" else Path(event).read_text(encoding="utf-8")
        room_event = RoomEvent.from_webhook_json(text)
    except OSError as exc:
        _fail(f"cannot read the event file {event}: {exc.strerror or exc}")
    except EventError as exc:
        _fail(str(exc))
    decision = compiled.decide(room_event, when)
    if serving is not None:
        decision = decision.with_admission(serving, waiting)
    output = decision.to_json() | {"explanation": decision.explain()}
    typer.echo(json.dumps(output, indent=2, ensure_ascii=False))


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


def _load_or_exit(file: Path) -> CompiledRules:
    try:
        return load_rules(file)
    except RulesError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        count = len(exc.issues)
        typer.echo(f"{file}: {count} {'problem' if count == 1 else 'problems'}", err=True)
        raise typer.Exit(1) from None


def _parse_now(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--now {text!r} is not an ISO 8601 time; write e.g. 2025-06-02T10:30:00+02:00")


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


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
