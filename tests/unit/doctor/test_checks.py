"""Check edge cases, on inventories built directly."""

from __future__ import annotations

from switchboard.doctor import Inventory, Severity, run_checks
from switchboard.doctor.inventory import (
    DialTarget,
    DispatchRule,
    InboundTrunk,
    Limits,
    OutboundTrunk,
    ProbeAgent,
    ProbeResult,
    Reference,
    RoomConfig,
    RoomPath,
    RoomPathKind,
    RulesFile,
    ServerRoom,
    Worker,
    WorkerForm,
)


def _codes(inventory: Inventory) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in run_checks(inventory)]


def _worker(name: str = "", program: str = "a.py") -> Worker:
    return Worker(
        agent_name=name, form=WorkerForm.RTC_SESSION, program=program, source=f"{program}:1"
    )


def _probe(*agents: str) -> ProbeResult:
    return ProbeResult(
        room="switchboard-probe-x",
        waited_seconds=1,
        agents=[ProbeAgent(identity=identity) for identity in agents],
        source="probe",
    )


def test_probe_evidence_alone_makes_a_dispatch_rule_leak() -> None:
    inventory = Inventory(
        dispatch_rules=[DispatchRule(rule_id="SDR", source="server: dispatch rule SDR")],
        probe=_probe("agent-AJ_1"),
    )

    findings = [f for f in run_checks(inventory) if f.code == "SB101"]

    assert [f.severity for f in findings] == [Severity.WARNING]
    assert any("agent-AJ_1" in line for line in findings[0].evidence)


def test_probe_without_agents_means_rooms_without_agent_list_stay_empty() -> None:
    inventory = Inventory(
        dispatch_rules=[DispatchRule(rule_id="SDR", source="server")], probe=_probe()
    )

    assert ("SB107", Severity.WARNING) in _codes(inventory)
    assert "SB101" not in {code for code, _ in _codes(inventory)}


def test_room_preset_may_supply_agents() -> None:
    inventory = Inventory(
        workers=[_worker()],
        dispatch_rules=[DispatchRule(rule_id="SDR", room_preset="support", source="r.json:1")],
    )

    assert "SB101" not in {code for code, _ in _codes(inventory)}


def test_dispatch_into_an_existing_room_does_not_leak() -> None:
    inventory = Inventory(
        workers=[_worker(), _worker("caller", "b.py")],
        room_paths=[
            RoomPath(
                kind=RoomPathKind.CREATE_DISPATCH,
                dispatched_agent="caller",
                may_create_room=False,
                source="a.py:9",
            )
        ],
    )

    assert _codes(inventory) == []


def test_env_override_silences_the_missing_worker_check() -> None:
    inventory = Inventory(
        workers=[_worker()],
        env_agent_names=[Reference(name="LIVEKIT_AGENT_NAME", source=".env:1")],
        rules_files=[RulesFile(source="r.yaml:1", agents=[Reference(name="x", source="r:3")])],
    )

    codes = {code for code, _ in _codes(inventory)}

    assert "SB104" not in codes
    assert "SB105" in codes


def test_rule_with_empty_trunk_ids_covers_every_trunk() -> None:
    inventory = Inventory(
        inbound_trunks=[InboundTrunk(trunk_id="ST_a", source="t:1")],
        dispatch_rules=[
            DispatchRule(rule_id="SDR", room_config=RoomConfig(agents=["q"]), source="r:1")
        ],
    )

    assert _codes(inventory) == []


def test_rule_naming_an_outbound_trunk_is_an_error_with_the_reason() -> None:
    inventory = Inventory(
        inbound_trunks=[InboundTrunk(trunk_id="ST_in", source="t:1")],
        outbound_trunks=[OutboundTrunk(trunk_id="ST_out", address="sip.x", source="o:1")],
        dispatch_rules=[
            DispatchRule(
                rule_id="SDR",
                trunk_ids=["ST_in", "ST_out"],
                room_config=RoomConfig(agents=["q"]),
                source="r:1",
            )
        ],
    )

    (finding,) = [f for f in run_checks(inventory) if f.code == "SB204"]

    assert finding.severity is Severity.ERROR
    assert "outbound trunk" in finding.message


def test_unknown_trunk_id_without_near_match_from_files_is_a_warning() -> None:
    inventory = Inventory(
        inbound_trunks=[InboundTrunk(trunk_id="ST_in", source="t:1")],
        dispatch_rules=[
            DispatchRule(
                rule_id="SDR",
                trunk_ids=["ST_in", "ST_zzzzzzzz"],
                room_config=RoomConfig(agents=["q"]),
                source="r:1",
            )
        ],
    )

    assert ("SB204", Severity.WARNING) in _codes(inventory)
    inventory.server_url = "ws://127.0.0.1:7880"
    assert ("SB204", Severity.ERROR) in _codes(inventory)


def test_shared_numbers_and_addresses_are_loop_evidence() -> None:
    inventory = Inventory(
        inbound_trunks=[
            InboundTrunk(
                trunk_id="ST_in",
                numbers=["+15550100"],
                allowed_addresses=["10.0.0.5"],
                source="t:1",
            )
        ],
        outbound_trunks=[
            OutboundTrunk(
                trunk_id="ST_out", address="10.0.0.5:5060", numbers=["15550100"], source="o:1"
            )
        ],
    )

    (finding,) = [f for f in run_checks(inventory) if f.code == "SB202"]

    assert "both trunks carry 15550100" in finding.message
    assert "accepts calls from 10.0.0.5" in finding.message


def test_dialing_an_own_number_in_sip_uri_form_is_detected() -> None:
    inventory = Inventory(
        inbound_trunks=[InboundTrunk(trunk_id="ST_in", numbers=["+15550100"], source="t:1")],
        dial_targets=[DialTarget(number="sip:+1-555-0100@carrier.example", source="c.py:3")],
    )

    assert ("SB201", Severity.ERROR) in _codes(inventory)


def test_builtin_and_mapped_attributes_are_fine_and_hidden_numbers_are_not() -> None:
    rules = RulesFile(
        source="r.yaml:1",
        attributes=[
            Reference(name="sip.callID", source="r:4"),
            Reference(name="lk.agent_name", source="r:5"),
            Reference(name="tier", source="r:6"),
            Reference(name="sip.phoneNumber", source="r:7"),
        ],
    )
    inventory = Inventory(
        rules_files=[rules],
        dispatch_rules=[
            DispatchRule(
                rule_id="SDR",
                attributes={"tier": "gold"},
                hide_phone_number=True,
                room_config=RoomConfig(agents=["q"]),
                source="d:1",
            )
        ],
    )

    (finding,) = [f for f in run_checks(inventory) if f.code == "SB205"]

    assert finding.evidence == ["r:7: sip.phoneNumber"]
    assert "hide_phone_number" in finding.message


def test_unmapped_attribute_without_any_sip_input_is_info() -> None:
    rules = RulesFile(source="r:1", attributes=[Reference(name="tier", source="r:6")])

    assert _codes(Inventory(rules_files=[rules])) == [("SB205", Severity.INFO)]


def test_agent_job_webhooks_are_info_on_livekit_cloud() -> None:
    events = [Reference(name="agent_job_ended", source="w.py:4")]

    assert _codes(Inventory(webhook_events=events)) == [("SB302", Severity.WARNING)]
    cloud = Inventory(webhook_events=events, server_url="wss://demo.livekit.cloud")
    assert _codes(cloud) == [("SB302", Severity.INFO)]


def test_zero_timeouts_mean_server_defaults_and_limits_are_configurable() -> None:
    room = ServerRoom(name="r", empty_timeout=0, departure_timeout=15, source="server: room r")

    assert _codes(Inventory(server_rooms=[room])) == []
    strict = Inventory(server_rooms=[room], limits=Limits(min_departure_timeout=30))
    (finding,) = run_checks(strict)
    assert finding.code == "SB303"
    assert finding.message.startswith("departure_timeout 15 s (minimum 30 s)")


def test_findings_are_sorted_errors_first() -> None:
    inventory = Inventory(
        webhook_events=[
            Reference(name="agent_job_started", source="w:1"),
            Reference(name="room_created", source="w:2"),
        ],
        env_agent_names=[Reference(name="LIVEKIT_AGENT_NAME", source="e:1")],
    )

    assert _codes(inventory) == [
        ("SB301", Severity.ERROR),
        ("SB302", Severity.WARNING),
        ("SB105", Severity.INFO),
    ]
