"""Without RE2 (a base install: google-re2 comes with the service extra) the rules engine still
decides regex rules, scanning them with ``re``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a fresh interpreter where ``import re2`` fails, as on a base install.
WITHOUT_RE2 = textwrap.dedent(
    """
    import sys
    sys.modules["re2"] = None  # makes `import re2` raise ImportError
    from datetime import UTC, datetime

    from switchboard.rules import RoomEvent, load_rules_text
    from switchboard.rules import regex_set

    assert not regex_set.AVAILABLE
    assert not regex_set.indexable("-vip-\\\\d+$")
    rules = load_rules_text('''
    version: 1
    default: nobody
    rules:
      - id: vip
        when: {event: room_started, room.name: {regex: "-vip-\\\\\\\\d+$"}}
        then: {dispatch: [outbound-caller]}
      - id: plain
        when: {event: room_started, room.name: {regex: "^plain"}}
        then: {dispatch: [qualifier]}
    ''')
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for name in ["a-vip-17", "plain-1", "other"]:
        event = RoomEvent.from_webhook_dict({"event": "room_started", "room": {"name": name}})
        print(name, rules.decide(event, now).rule_id)
    """
)


def test_regex_rules_are_decided_without_re2() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_RE2], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["a-vip-17 vip", "plain-1 plain", "other default"]
