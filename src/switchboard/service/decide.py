"""Decide a recorded event with the rules and record the decision (which enqueues its jobs)."""

from __future__ import annotations

from switchboard.rules import Decision, RoomEvent, RulesHolder
from switchboard.store import NewDecision, Store


def decide(rules: RulesHolder, event: RoomEvent) -> tuple[Decision, NewDecision]:
    """The rules' decision on ``event``, and the record the store keeps of it."""
    decision = rules.decide(event)
    explanation = decision.to_json() | {"text": decision.explain(), "rules": rules.path.name}
    record = NewDecision(
        None if decision.is_default else decision.rule_id,
        [(d.agent, d.metadata) for d in decision.dispatches],
        explanation,
    )
    return decision, record


async def decide_and_record(store: Store, rules: RulesHolder, event: RoomEvent) -> Decision | None:
    """The decision on an already recorded ``event``, recorded with its dispatch jobs; None if
    it was already decided (a concurrent delivery in this or another replica got there first)."""
    decision, record = decide(rules, event)
    recorded = await store.record_decision(
        event.id,
        event.room.name if event.room else "",
        record.rule_id,
        record.dispatches,
        record.explanation,
    )
    return decision if recorded else None
