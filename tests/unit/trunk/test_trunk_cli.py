"""``switchboard trunk``: bad input is one line naming the fix (exit 2), before any server call."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.errors import ConfigError
from switchboard.livekit.trunks import Trunk, check_address, check_number

LIVEKIT = {
    "LIVEKIT_URL": "http://127.0.0.1:9",  # nothing listens: a call would fail, not hang
    "LIVEKIT_API_KEY": "key",
    "LIVEKIT_API_SECRET": "secret-secret-secret-secret-secret",
}


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["trunk", *args], env=env if env is not None else LIVEKIT)
    return result.exit_code, result.output


@pytest.mark.parametrize("number", ["+19497710000", "19497710000"])
def test_phone_numbers_are_accepted(number: str) -> None:
    assert check_number(number) == number


@pytest.mark.parametrize("number", ["", "+1 949", "949-771", "abc", "+"])
def test_what_is_not_a_phone_number_says_e164(number: str) -> None:
    with pytest.raises(ConfigError, match=r"E\.164"):
        check_number(number)


@pytest.mark.parametrize("address", ["127.0.0.1:5070", "example.pstn.twilio.com", "[::1]:5060"])
def test_sip_addresses_are_accepted(address: str) -> None:
    assert check_address(address) == address


@pytest.mark.parametrize("address", ["sip:+1555@host", "user@host", "", ":5060", "a b"])
def test_what_is_not_host_port_says_so(address: str) -> None:
    with pytest.raises(ConfigError, match="host\\[:port\\]"):
        check_address(address)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "exactly one of --inbound"),
        (("--inbound", "+19497710000", "--outbound", "127.0.0.1:5070"), "exactly one of"),
        (("--inbound", "+19497710000", "--number", "+15550100000"), "--number is for"),
        (("--inbound", "call-me"), "E.164"),
        (("--outbound", "sip:x@y"), "host[:port]"),
    ],
)
def test_create_refuses_bad_input_before_calling_the_server(
    args: tuple[str, ...], says: str
) -> None:
    code, output = _run("create", *args)
    assert code == 2, output
    assert output.startswith("error: ") and says in output, output


def test_create_without_livekit_settings_names_the_variables() -> None:
    code, output = _run("create", "--inbound", "+19497710000", env={"LIVEKIT_URL": ""})
    assert code == 2
    assert "LIVEKIT_URL" in output and "LIVEKIT_API_SECRET" in output


def test_a_server_that_does_not_answer_is_one_line_not_a_traceback() -> None:
    code, output = _run("list")
    assert code == 2
    assert output.startswith("error: ") and "Traceback" not in output, output


def test_the_list_line_shows_id_direction_numbers_and_address() -> None:
    trunk = Trunk("ST_abc", "outbound", "Twilio_Trunk", ("+15550100000",), "127.0.0.1:5070")
    assert trunk.line() == "ST_abc  outbound  'Twilio_Trunk'  +15550100000 → 127.0.0.1:5070"
