"""One logging style: the event as the message, its facts as extra=, printed as key=value."""

from __future__ import annotations

import logging

from switchboard.logs import FORMAT, KeyValueFormatter, facts_of


def _record(message: str, **facts: object) -> logging.LogRecord:
    logger = logging.getLogger("switchboard.test")
    return logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, (), None, extra=facts)


def test_facts_follow_the_message_in_the_order_given() -> None:
    record = _record("dispatch", job=7, room="call-1", outcome="dispatched")

    line = KeyValueFormatter(FORMAT).format(record)

    assert line == "INFO switchboard.test: dispatch job=7 room=call-1 outcome=dispatched"


def test_values_with_spaces_lists_and_none_stay_one_token_each() -> None:
    record = _record("webhook", reason="the event has no id", dispatch=["qualifier"], rule=None)

    line = KeyValueFormatter(FORMAT).format(record)

    assert line.endswith('reason="the event has no id" dispatch=["qualifier"] rule=null')


def test_a_record_without_facts_is_its_message() -> None:
    assert facts_of(_record("service stopped")) == {}
    assert (
        KeyValueFormatter(FORMAT).format(_record("service stopped")).endswith(": service stopped")
    )
