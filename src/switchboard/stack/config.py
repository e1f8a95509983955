"""Settings of one local stack and the YAML it hands to livekit-server and livekit-sip.

A stack runs one livekit-server node or several (LiveKit's own multi-node mode): every node
shares the stack's Redis, which routes each room to one node; each node has its own HTTP port,
its own RTC port and, inside the project's network namespace, its own address.
"""

from __future__ import annotations

import os
import secrets
import socket
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
        tried = {port for port in self.ports.model_dump().values() if isinstance(port, int)}
        while len(self.ports.extra_nodes) < self.nodes - 1:
            self.ports.extra_nodes.append(
                NodePorts(http=_free_both(tried), rtc_udp=_free_both(tried))
            )
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


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _free_both(tried: set[int]) -> int:
    """A port free for TCP and UDP alike (SIP and ICE use both)."""
    for _ in range(50):
        port = free_port()
        if port in tried:
            continue
        tried.add(port)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise OSError("no free port found")


def allocate_ports(rtp_span: int = 40) -> StackPorts:
    tried: set[int] = set()
    rtp_start = _free_both(tried) & ~1
    return StackPorts(
        redis=_free_both(tried),
        http=_free_both(tried),
        rtc_tcp=_free_both(tried),
        rtc_udp=_free_both(tried),
        sip=_free_both(tried),
        rtp_start=rtp_start,
        rtp_end=rtp_start + rtp_span,
    )
