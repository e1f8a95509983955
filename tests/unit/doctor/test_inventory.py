"""Merging partial inventories."""

from __future__ import annotations

from switchboard.doctor.inventory import InboundTrunk, Inventory, Limits, ProbeResult


def test_merge_concatenates_lists_and_keeps_later_scalars() -> None:
    files = Inventory(inbound_trunks=[InboundTrunk(trunk_id="ST_a", source="a.json:1")])
    files.files.append("a.json")
    server = Inventory(server_url="ws://lk")
    server.inbound_trunks.append(InboundTrunk(trunk_id="ST_b", source="server"))
    probe = ProbeResult(room="switchboard-probe-1", waited_seconds=1, source="probe")

    merged = files.merge(
        server, Inventory(probe=probe), Inventory(limits=Limits(min_empty_timeout=5))
    )

    assert [t.trunk_id for t in merged.inbound_trunks] == ["ST_a", "ST_b"]
    assert merged.files == ["a.json"]
    assert merged.server_url == "ws://lk" and merged.server_read
    assert merged.probe == probe
    assert merged.limits.min_empty_timeout == 5
    assert files.inbound_trunks[0].trunk_id == "ST_a" and len(files.inbound_trunks) == 1


def test_merge_keeps_limits_unless_given() -> None:
    strict = Inventory(limits=Limits(min_departure_timeout=30))

    assert strict.merge(Inventory()).limits.min_departure_timeout == 30
