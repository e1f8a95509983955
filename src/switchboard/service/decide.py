"""Decide a recorded event with the rules and record the decision (which enqueues its jobs).

A decision under a limit records no jobs: admission (``Store.admit_caller``) queues them, the
agents' or the hold agent's, once it has counted the callers.
"""

from __future__ import annotations

from switchboard.rules import Decision, RoomEvent, RulesHolder
from switchboard.store import Dispatch, NewDecision, Store


def decide(rules: RulesHolder, event: RoomEvent) -> tuple[Decision, NewDecision]:
    """The rules' decision on ``event``, and the record the store keeps of it."""
    decision = rules.decide(event)
    explanation = decision.to_json() | {"text": decision.explain(), "rules": rules.path.name}
    dispatches = [] if decision.admission else [(d.agent, d.metadata) for d in decision.dispatches]
    record = NewDecision(None if decision.is_default else decision.rule_id, dispatches, explanation)
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
    if not recorded:
        return None
    if decision.admission is not None and decision.dispatches and event.room is not None:
        admitted = await store.admit_caller(
            decision.admission,
            event.room.name,
            event.room.sid,
            event.id,
            [Dispatch(d.agent, d.metadata) for d in decision.dispatches],
        )
        return decision.admitted_as(admitted.result)
    return decision
