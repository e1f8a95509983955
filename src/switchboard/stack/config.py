"""Settings of one local stack and the YAML it hands to livekit-server and livekit-sip.

A stack runs one livekit-server node or several (LiveKit's own multi-node mode): every node
shares the stack's Redis, which routes each room to one node; each node has its own HTTP port,
its own RTC port and, inside the project's network namespace, its own address.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, model_validator

MAX_NODES = 4


class NodePorts(BaseModel):
    """The ports of a livekit-server node after the first (which uses ``StackPorts``)."""

    http: int
    rtc_udp: int


class StackPorts(BaseModel):
    """Every port one stack listens on; free ports are picked so stacks can run side by side."""

    redis: int
    http: int
    rtc_tcp: int
    rtc_udp: int
    sip: int
    rtp_start: int
    rtp_end: int
    extra_nodes: list[NodePorts] = Field(default_factory=list)


class LiveKitNode(BaseModel):
    """One livekit-server node of a stack: its number (1 is the entry point), address, ports."""

    number: int
    ip: str
    http: int
    rtc_udp: int

    @property
    def name(self) -> str:
        """Its process name: ``livekit-server`` for node 1, ``livekit-server-N`` after."""
        return "livekit-server" if self.number == 1 else f"livekit-server-{self.number}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.http}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http}"


def _extra_node_ips() -> list[str]:
    # scripts/netns-run adds one address per extra node inside the namespace.
    return os.environ.get("SWITCHBOARD_EXTRA_NODE_IPS", "").split()


class StackConfig(BaseModel):
    """What a stack is started with."""

    api_key: str = "switchboard"
    api_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    webhook_urls: list[str] = Field(default_factory=list)
    empty_timeout: int = 300
    departure_timeout: int = 20
    with_sip: bool = True
    node_ip: str = Field(default_factory=lambda: os.environ.get("SWITCHBOARD_NODE_IP", "127.0.0.1"))
    nodes: int = Field(default=1, ge=1, le=MAX_NODES)
    extra_node_ips: list[str] = Field(default_factory=_extra_node_ips)
    ports: StackPorts = Field(default_factory=lambda: allocate_ports())

    @model_validator(mode="after")
    def _ports_for_every_node(self) -> StackConfig:
        while len(self.ports.extra_nodes) < self.nodes - 1:
            self.ports.extra_nodes.append(NodePorts(http=free_port(), rtc_udp=free_port()))
        return self

    @property
    def livekit_nodes(self) -> list[LiveKitNode]:
        """Every node, the entry point (node 1, at ``url``) first.

        Node N > 1 listens on ``extra_node_ips[N-2]`` when there is one, else on ``node_ip``
        (plain loopback: same address, other ports).
        """
        first = LiveKitNode(
            number=1, ip=self.node_ip, http=self.ports.http, rtc_udp=self.ports.rtc_udp
        )
        others = [
            LiveKitNode(
                number=index + 2,
                ip=self.extra_node_ips[index] if index < len(self.extra_node_ips) else self.node_ip,
                http=ports.http,
                rtc_udp=ports.rtc_udp,
            )
            for index, ports in enumerate(self.ports.extra_nodes[: self.nodes - 1])
        ]
        return [first, *others]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ports.http}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    @property
    def sip_address(self) -> str:
        return f"{self.node_ip}:{self.ports.sip}"

    def env(self) -> dict[str, str]:
        """Connection settings under LiveKit's own variable names."""
        return {
            "LIVEKIT_URL": self.url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
        }

    def server_yaml(self, node: LiveKitNode | None = None) -> str:
        """livekit-server's config for ``node`` (default: node 1); a ``{node}`` in a webhook URL
        becomes the node's number, so a receiver can tell which node sent an event."""
        node = node or self.livekit_nodes[0]
        config: dict[str, Any] = {
            "port": node.http,
            "bind_addresses": ["127.0.0.1"],
            "rtc": {
                # ICE over TCP would listen on every interface; loopback media needs only UDP.
                "tcp_port": 0,
                "udp_port": node.rtc_udp,
                "use_external_ip": False,
                "node_ip": node.ip,
                "enable_loopback_candidate": True,
                # The UDP mux binds only these addresses (not the host's external one).
                "ips": {"includes": sorted({"127.0.0.1/32", f"{node.ip}/32"})},
            },
            "redis": {"address": f"127.0.0.1:{self.ports.redis}"},
            "keys": {self.api_key: self.api_secret},
            "room": {
                "auto_create": True,
                "empty_timeout": self.empty_timeout,
                "departure_timeout": self.departure_timeout,
            },
            "logging": {"level": "debug", "json": False},
        }
        if self.webhook_urls:
            urls = [url.replace("{node}", str(node.number)) for url in self.webhook_urls]
            config["webhook"] = {"api_key": self.api_key, "urls": urls}
        return yaml.safe_dump(config, sort_keys=False)

    def sip_yaml(self) -> str:
        config: dict[str, Any] = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "ws_url": self.url,
            "redis": {"address": f"127.0.0.1:{self.ports.redis}"},
            "sip_port": self.ports.sip,
            "listen_ip": self.node_ip,
            "nat_1_to_1_ip": self.node_ip,
            "rtp_port": f"{self.ports.rtp_start}-{self.ports.rtp_end}",
            "use_external_ip": False,
            # Tests share 2 cores with the workers; the default 0.9 makes livekit-sip refuse calls.
            "max_cpu_utilization": 1.0,
            "logging": {"level": "debug"},
        }
        return yaml.safe_dump(config, sort_keys=False)


_PORT_FLOOR = 20000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands to client sockets (connect, sendto) on its own."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


def free_ports(span: int = 1) -> int:
    """The first of ``span`` consecutive ports free for TCP and UDP on every address.

    Ports come from below the kernel's ephemeral range and are never handed out twice by one
    process: a port the kernel picks for ``bind(0)`` is an ephemeral one, which any client socket
    (an RTP leg, an HTTP request) may take before the server that was promised it binds it
    (livekit-server then exits with "bind: address already in use").
    """
    ceiling = _ephemeral_floor() - span
    for _ in range(200):
        start = _PORT_FLOOR + secrets.randbelow(max(1, ceiling - _PORT_FLOOR))
        block = range(start, start + span)
        if any(port in _handed_out for port in block):
            continue
        if all(_bindable(port) for port in block):
            _handed_out.update(block)
            return start
    raise OSError(f"no {span} free consecutive port(s) between {_PORT_FLOOR} and {ceiling}")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """One port free for TCP and UDP alike (``kind`` is kept for callers that name one)."""
    return free_ports(1)


def allocate_ports(rtp_span: int = 40) -> StackPorts:
    rtp_start = free_ports(rtp_span + 2)
    rtp_start += rtp_start % 2  # even, as RTP wants, inside the reserved block
    return StackPorts(
        redis=free_port(),
        http=free_port(),
        rtc_tcp=free_port(),
        rtc_udp=free_port(),
        sip=free_port(),
        rtp_start=rtp_start,
        rtp_end=rtp_start + rtp_span,
    )
