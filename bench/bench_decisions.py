"""Benchmark: latency of ``decide`` with 10, 100 and 1,000 rules, against a naive interpreter.

Run: ``python bench/bench_decisions.py`` (add ``--quick`` for a short run). Pure CPU, no I/O.

Each case is a worst case: the event matches the last rule, or no rule (the default), so every
rule that could match is considered. Two workloads:

* ``numbers``: one rule per called number (``sip.trunkPhoneNumber: +1...``), the typical
  inbound-routing file. The compiled engine indexes these rules on the number.
* ``prefixes``: one rule per room-name glob (``team-7-*``) plus a metadata regex. The engine
  indexes these on the glob's literal prefix.
* ``regex``: one rule per room-name regex anchored at the end (``-vip-7$``) plus a numeric
  metadata test. No literal to index on: the engine finds the candidate rules with one RE2 set
  search over all the regexes.
* ``scan``: the same rules written with a lookbehind (``(?<=-vip-)7$``), which RE2 cannot run,
  so no index applies and the engine evaluates every rule's closures in turn: the true worst
  case.

The baseline, measured in the same run, is a naive interpreter that walks the pydantic models
on every call: it parses field paths, looks up timezones and interprets each test anew.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import json
import operator
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from switchboard.rules import CompiledRules, RoomEvent, load_rules_text
from switchboard.rules.condition_models import Condition, FieldTest
from switchboard.rules.fields import MISSING, parse_field_path
from switchboard.rules.models import RulesFile
from switchboard.rules.rollout import bucket_of, threshold_of

NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
NOW = datetime(2025, 6, 3, 10, 0, tzinfo=UTC)
BUSINESS = {"timezone": "Europe/Berlin", "days": "mon-fri", "from": "08:00", "to": "20:00"}


# --- the naive baseline -----------------------------------------------------------------


def naive_decide(model: RulesFile, event: RoomEvent, now: datetime) -> str:
    """First-match evaluation straight off the pydantic models, with no compilation."""
    for rule in model.rules:
        if naive_holds(rule.when, event, now, rule.id):
            return rule.id
    return "default"


def naive_holds(condition: Condition, event: RoomEvent, now: datetime, salt: str) -> bool:
    for test in condition.field_tests.values():
        if not naive_field(test, event):
            return False
    if condition.time is not None and not condition.time.build().contains(now):
        return False
    rollout = condition.percentage
    if rollout is not None:
        value = parse_field_path.__wrapped__(rollout.key).get(event)
        salt_used = rollout.salt if rollout.salt is not None else salt
        if value is MISSING or bucket_of(salt_used, value) >= threshold_of(rollout.percent):
            return False
    if condition.all_ is not None and not all(
        naive_holds(child, event, now, salt) for child in condition.all_
    ):
        return False
    if condition.any_ is not None and not any(
        naive_holds(child, event, now, salt) for child in condition.any_
    ):
        return False
    return condition.not_ is None or not naive_holds(condition.not_, event, now, salt)


def naive_field(test: FieldTest, event: RoomEvent) -> bool:
    value = parse_field_path.__wrapped__(test.field).get(event)
    for name in test.operators:
        operand = test.value_of(name)
        if name == "eq" and not naive_equal(value, operand):
            return False
        if name == "ne" and naive_equal(value, operand):
            return False
        if name == "in" and not any(naive_equal(value, item) for item in operand):
            return False
        if name == "glob" and not (isinstance(value, str) and fnmatch.fnmatchcase(value, operand)):
            return False
        if name == "regex" and not (isinstance(value, str) and re.search(operand, value)):
            return False
        if name == "exists" and (value is not MISSING) != operand:
            return False
        if name in NUMERIC and not naive_compare(name, value, operand):
            return False
    return True


def naive_compare(name: str, value: object, operand: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return bool(NUMERIC[name](number, operand))


def naive_equal(value: object, operand: object) -> bool:
    if isinstance(operand, bool) or operand is None:
        return value is operand
    return type(value) is type(operand) and value == operand


# --- workloads ----------------------------------------------------------------------------


def numbers_file(count: int) -> str:
    rules = [
        {
            "id": f"line-{n}",
            "when": {
                "event": "participant_joined",
                "participant.kind": "SIP",
                "sip.trunkPhoneNumber": f"+1949771{n:04d}",
                "time": BUSINESS,
            },
            "then": {
                "dispatch": [{"agent": f"agent-{n}", "metadata": '{"caller": "{sip.phoneNumber}"}'}]
            },
        }
        for n in range(count)
    ]
    return json.dumps({"version": 1, "rules": rules, "default": "nobody"})


def patterns_file(count: int) -> str:
    rules = [
        {
            "id": f"pattern-{n}",
            "when": {
                "event": "room_started",
                "room.name": {"glob": f"team-{n}-*"},
                "room.metadata.customer": {"regex": f"^C-{n}-"},
            },
            "then": {"dispatch": [{"agent": f"agent-{n}", "metadata": "{room.name}"}]},
        }
        for n in range(count)
    ]
    return json.dumps({"version": 1, "rules": rules, "default": "nobody"})


def scan_file(count: int, *, lookbehind: bool = False) -> str:
    rules = [
        {
            "id": f"suffix-{n}",
            "when": {
                "event": "room_started",
                "room.name": {"regex": f"(?<=-vip-){n}$" if lookbehind else f"-vip-{n}$"},
                "room.metadata.priority": {"gte": 1},
            },
            "then": {"dispatch": [{"agent": f"agent-{n}", "metadata": "{room.name}"}]},
        }
        for n in range(count)
    ]
    return json.dumps({"version": 1, "rules": rules, "default": "nobody"})


def sip_event(called: str) -> RoomEvent:
    return RoomEvent.from_webhook_dict(
        {
            "event": "participant_joined",
            "room": {"name": "call_+15550000000_AbCdEfGhIjKl"},
            "participant": {
                "identity": "sip_+15550000000",
                "kind": "SIP",
                "attributes": {"sip.phoneNumber": "+15550000000", "sip.trunkPhoneNumber": called},
            },
        }
    )


def room_event(name: str, customer: str) -> RoomEvent:
    metadata = json.dumps({"customer": customer, "priority": 5})
    return RoomEvent.from_webhook_dict(
        {"event": "room_started", "room": {"name": name, "metadata": metadata}}
    )


def cases(count: int) -> list[tuple[str, str, str, RoomEvent, str]]:
    last = count - 1
    numbers, prefixes = numbers_file(count), patterns_file(count)
    regex, scan = scan_file(count), scan_file(count, lookbehind=True)
    called = f"+1949771{last:04d}"
    return [
        ("numbers", numbers, "last rule", sip_event(called), f"line-{last}"),
        ("numbers", numbers, "default", sip_event("+14155550100"), "default"),
        (
            "prefixes",
            prefixes,
            "last rule",
            room_event(f"team-{last}-x", f"C-{last}-9"),
            f"pattern-{last}",
        ),
        ("prefixes", prefixes, "default", room_event("other", "C-x"), "default"),
        ("regex", regex, "last rule", room_event(f"x-vip-{last}", "C-1"), f"suffix-{last}"),
        ("regex", regex, "default", room_event("other", "C-1"), "default"),
        ("scan", scan, "last rule", room_event(f"x-vip-{last}", "C-1"), f"suffix-{last}"),
        ("scan", scan, "default", room_event("other", "C-1"), "default"),
    ]


# --- measurement --------------------------------------------------------------------------


BLOCKS = 5


def measure(call: Callable[[], object], iterations: int) -> list[list[int]]:
    """Per-call latencies in ns, taken in ``BLOCKS`` blocks so one noisy moment skews one block."""
    for _ in range(min(iterations, 200)):
        call()
    blocks = []
    clock = time.perf_counter_ns
    for _ in range(BLOCKS):
        gc.collect()
        gc.disable()
        try:
            samples = []
            for _ in range(max(1, iterations // BLOCKS)):
                start = clock()
                call()
                samples.append(clock() - start)
        finally:
            gc.enable()
        blocks.append(samples)
    return blocks


def percentile(blocks: list[list[int]], share: float) -> float:
    """The median over blocks of each block's percentile, in µs."""
    values = []
    for samples in blocks:
        ordered = sorted(samples)
        values.append(ordered[min(len(ordered) - 1, int(len(ordered) * share))])
    return statistics.median(values) / 1000


def per_second(blocks: list[list[int]]) -> float:
    return 1e9 / statistics.median(statistics.fmean(samples) for samples in blocks)


def run(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for count in (10, 100, 1000):
        for workload, text, case, event, expected in cases(count):
            rules: CompiledRules = load_rules_text(text)
            decision = rules.decide(event, NOW)
            naive = naive_decide(rules.model, event, NOW)
            assert decision.rule_id == naive == expected, (decision.rule_id, naive, expected)
            fast_iterations = 2_000 if quick else 25_000
            slow_iterations = max(100, (2_000 if quick else 25_000) // count)
            compiled = measure(lambda r=rules, e=event: r.decide(e, NOW), fast_iterations)
            baseline = measure(
                lambda m=rules.model, e=event: naive_decide(m, e, NOW), slow_iterations
            )
            rows.append(
                {
                    "workload": workload,
                    "rules": count,
                    "case": case,
                    "p50": percentile(compiled, 0.50),
                    "p99": percentile(compiled, 0.99),
                    "per_second": per_second(compiled),
                    "naive_p50": percentile(baseline, 0.50),
                    "naive_p99": percentile(baseline, 0.99),
                }
            )
    return rows


def parse_cost(quick: bool) -> tuple[float, float]:
    payload = json.loads(
        (
            Path(__file__).resolve().parents[1] / "examples/rules/events/seed-sip-call.json"
        ).read_text()
    )
    samples = measure(lambda: RoomEvent.from_webhook_dict(payload), 2_000 if quick else 20_000)
    return percentile(samples, 0.50), percentile(samples, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    quick = parser.parse_args().quick
    rows = run(quick)
    print(
        f"Python {sys.version.split()[0]}; µs per decision, median over {BLOCKS} blocks of each "
        "block's percentile; GC paused while timing\n"
    )
    print(
        "| workload | rules | match | p50 µs | p99 µs | decisions/s | naive p50 µs "
        "| naive p99 µs | speed-up (p50) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['workload']} | {row['rules']} | {row['case']} | {row['p50']:.1f} "
            f"| {row['p99']:.1f} | {row['per_second']:,.0f} | {row['naive_p50']:.1f} "
            f"| {row['naive_p99']:.1f} | {row['naive_p50'] / row['p50']:.1f}× |"
        )
    p50, p99 = parse_cost(quick)
    print(
        f"\nParsing a webhook dict into a RoomEvent (not in the table): "
        f"p50 {p50:.1f} µs, p99 {p99:.1f} µs"
    )


if __name__ == "__main__":
    main()
