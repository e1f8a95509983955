"""SIP dispatch rules as plain data, and the plan that brings a server in line with the rules.

Switchboard owns only the SIP dispatch rules whose name starts with ``switchboard:``; ``diff``
never creates, updates or deletes any other rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from switchboard.rules.decision import AgentDispatch

OWNED_PREFIX: Final = "switchboard:"
INDIVIDUAL: Final = "dispatchRuleIndividual"


@dataclass(frozen=True, slots=True)
class SipDispatchRule:
    """A LiveKit SIP dispatch rule that creates one room per call and dispatches ``agents``.

    ``numbers`` are called numbers (the trunk number dialled), ``inbound_numbers`` the callers
    allowed, ``trunk_ids`` the trunks (all three empty mean "any"). Rooms are named
    ``<room_prefix>_<caller>_<random>`` by the server. ``sip_dispatch_rule_id`` is set only on
    rules read from the server.
    """

    name: str
    numbers: tuple[str, ...] = ()
    inbound_numbers: tuple[str, ...] = ()
    trunk_ids: tuple[str, ...] = ()
    room_prefix: str = "call"
    agents: tuple[AgentDispatch, ...] = ()
    rule_type: str = INDIVIDUAL
    sip_dispatch_rule_id: str = ""

    @property
    def is_owned(self) -> bool:
        """True when Switchboard manages this rule (its name starts with ``switchboard:``)."""
        return self.name.startswith(OWNED_PREFIX)

    @property
    def rule_id(self) -> str:
        """The Switchboard rule id this SIP rule was compiled from (``""`` if not owned)."""
        return self.name[len(OWNED_PREFIX) :] if self.is_owned else ""

    def same_config(self, other: SipDispatchRule) -> bool:
        """True when both rules route calls identically (ids and list order are ignored)."""
        return (
            self.name == other.name
            and sorted(self.numbers) == sorted(other.numbers)
            and sorted(self.inbound_numbers) == sorted(other.inbound_numbers)
            and sorted(self.trunk_ids) == sorted(other.trunk_ids)
            and self.room_prefix == other.room_prefix
            and self.agents == other.agents
            and self.rule_type == other.rule_type
        )


@dataclass(frozen=True, slots=True)
class SipPlan:
    """What to do on the server: create, update (by id) and delete; ``unchanged`` for logs."""

    create: tuple[SipDispatchRule, ...] = ()
    update: tuple[SipDispatchRule, ...] = ()
    delete: tuple[SipDispatchRule, ...] = ()
    unchanged: tuple[SipDispatchRule, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the server already matches the rules."""
        return not (self.create or self.update or self.delete)

    def summary(self) -> str:
        """One line per change, e.g. ``create switchboard:sales``."""
        lines = [f"create {rule.name}" for rule in self.create]
        lines += [f"update {rule.name} ({rule.sip_dispatch_rule_id})" for rule in self.update]
        lines += [f"delete {rule.name} ({rule.sip_dispatch_rule_id})" for rule in self.delete]
        return "\n".join(lines) if lines else "nothing to change"


def diff(desired: Sequence[SipDispatchRule], existing: Sequence[SipDispatchRule]) -> SipPlan:
    """The changes that turn the server's ``switchboard:`` rules into ``desired``.

    An existing owned rule is kept (and updated when its routing differs) when a desired rule
    has its name; extra owned rules with the same name, and owned rules no longer desired, are
    deleted. Rules not named ``switchboard:...`` are left alone.
    """
    owned: dict[str, SipDispatchRule] = {}
    delete: list[SipDispatchRule] = []
    for rule in existing:
        if not rule.is_owned:
            continue
        if rule.name in owned:
            delete.append(rule)
        else:
            owned[rule.name] = rule
    create: list[SipDispatchRule] = []
    update: list[SipDispatchRule] = []
    unchanged: list[SipDispatchRule] = []
    wanted_names: set[str] = set()
    for rule in desired:
        if not rule.is_owned:
            raise ValueError(
                f"desired SIP rule {rule.name!r} is not named {OWNED_PREFIX}<rule id>; "
                "build desired rules with compile_native()"
            )
        if rule.name in wanted_names:
            raise ValueError(f"desired SIP rules name {rule.name!r} twice; names must be unique")
        wanted_names.add(rule.name)
        current = owned.get(rule.name)
        if current is None:
            create.append(rule)
        elif current.same_config(rule):
            unchanged.append(current)
        else:
            update.append(replace(rule, sip_dispatch_rule_id=current.sip_dispatch_rule_id))
    delete.extend(rule for name, rule in owned.items() if name not in wanted_names)
    return SipPlan(tuple(create), tuple(update), tuple(delete), tuple(unchanged))
