"""StackConfig with several livekit-server nodes: ports, addresses and each node's YAML."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from switchboard.stack.config import MAX_NODES, StackConfig


def test_each_node_has_its_own_ports_and_extra_address() -> None:
    config = StackConfig(nodes=3, node_ip="10.0.0.1", extra_node_ips=["10.0.0.5"])
    nodes = config.livekit_nodes
    assert [n.number for n in nodes] == [1, 2, 3]
    assert [n.name for n in nodes] == ["livekit-server", "livekit-server-2", "livekit-server-3"]
    assert [n.ip for n in nodes] == ["10.0.0.1", "10.0.0.5", "10.0.0.1"]
    ports = [n.http for n in nodes] + [n.rtc_udp for n in nodes]
    assert len(set(ports)) == len(ports)
    assert nodes[0].url == config.url


def test_a_nodes_yaml_uses_its_ports_the_shared_redis_and_its_number_in_webhooks() -> None:
    config = StackConfig(
        nodes=2, extra_node_ips=["10.0.0.5"], webhook_urls=["http://127.0.0.1:9/node-{node}"]
    )
    second = config.livekit_nodes[1]
    server = yaml.safe_load(config.server_yaml(second))
    assert server["port"] == second.http
    assert server["rtc"]["udp_port"] == second.rtc_udp
    assert server["rtc"]["node_ip"] == "10.0.0.5"
    assert server["redis"]["address"] == f"127.0.0.1:{config.ports.redis}"
    assert server["webhook"]["urls"] == ["http://127.0.0.1:9/node-2"]
    assert yaml.safe_load(config.server_yaml())["port"] == config.ports.http


def test_the_nodes_survive_the_state_file_round_trip() -> None:
    config = StackConfig(nodes=2)
    assert StackConfig.model_validate(config.model_dump()).livekit_nodes == config.livekit_nodes


@pytest.mark.parametrize("nodes", [0, MAX_NODES + 1])
def test_a_node_count_out_of_range_is_refused(nodes: int) -> None:
    with pytest.raises(ValidationError, match="nodes"):
        StackConfig(nodes=nodes)
