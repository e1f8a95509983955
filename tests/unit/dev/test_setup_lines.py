"""What ``dev --remote`` and ``make dev`` print for the LiveKit side and for calling in (pure)."""

from __future__ import annotations

from pathlib import Path

from switchboard.dev.howto import called_numbers, how_to_call
from switchboard.dev.remote import RemoteProject, livekit_side_lines
from switchboard.rules import load_rules
from switchboard.settings import Settings, load_settings

SEED = Path(__file__).resolve().parents[3] / "examples" / "rules" / "seed.yaml"
PROJECT = RemoteProject(sip_plan="create switchboard:inbound-qualifier", numbers=["+19497710000"])


def settings(url: str) -> Settings:
    return load_settings(livekit_url=url, livekit_api_key="APIkey1", livekit_api_secret="s" * 32)


def test_cloud_says_where_the_dashboard_sets_the_webhook_and_its_key() -> None:
    lines = livekit_side_lines(
        settings("wss://acme-x1y2.livekit.cloud"),
        "http://127.0.0.1:8787",
        SEED,
        PROJECT,
        public_url="https://tunnel.example.com/",
    )
    assert lines[1] == "# 1. webhook: register https://tunnel.example.com/livekit/webhook"
    assert "Settings → Webhooks: add it, signed with API key APIkey1" in lines[2]
    assert not any("livekit.yaml" in line for line in lines)
    assert not any("--public-url" in line for line in lines)  # given: no hint needed
    assert "#      create switchboard:inbound-qualifier" in lines


def test_self_hosted_gets_the_yaml_and_the_reachability_hint() -> None:
    lines = livekit_side_lines(
        settings("ws://10.0.0.5:7880"),
        "http://127.0.0.1:8787",
        SEED,
        PROJECT,
        sip_address="10.0.0.5:5060",
    )
    assert "#          api_key: APIkey1" in lines
    assert "#          urls: [http://127.0.0.1:8787/livekit/webhook]" in lines
    assert any("pass --public-url" in line for line in lines)
    assert "#   switchboard call +19497710000 --sip-address 10.0.0.5:5060" in lines


def test_call_hints_without_a_trunk_or_a_sip_host() -> None:
    assert "no inbound SIP trunk" in how_to_call([], "127.0.0.1:5060")[0]
    unknown = how_to_call(["+15550100"], "")
    assert "#   dial +15550100   SIP URI sip:+15550100@<your SIP host>" in unknown
    assert any("pass --sip-address" in line for line in unknown)


def test_the_seed_rules_route_the_sales_number() -> None:
    assert called_numbers(load_rules(SEED)) == ["+19497710000"]
