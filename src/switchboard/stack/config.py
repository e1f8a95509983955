"""Settings of one local stack and the YAML it hands to livekit-server and livekit-sip."""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

import yaml
from pydantic import BaseModel, Field


class StackPorts(BaseModel):
    """Every port one stack listens on; free ports are picked so stacks can run side by side."""

    redis: int
    http: int
    rtc_tcp: int
    rtc_udp: int
    sip: int
    rtp_start: int
    rtp_end: int


class StackConfig(BaseModel):
    """What a stack is started with."""

    api_key: str = "switchboard"
    api_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    webhook_urls: list[str] = Field(default_factory=list)
    empty_timeout: int = 300
    departure_timeout: int = 20
    with_sip: bool = True
    node_ip: str = Field(default_factory=lambda: os.environ.get("SWITCHBOARD_NODE_IP", "127.0.0.1"))
    ports: StackPorts = Field(default_factory=lambda: allocate_ports())

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

    def server_yaml(self) -> str:
        config: dict[str, Any] = {
            "port": self.ports.http,
            "bind_addresses": ["127.0.0.1"],
            "rtc": {
                # ICE over TCP would listen on every interface; loopback media needs only UDP.
                "tcp_port": 0,
                "udp_port": self.ports.rtc_udp,
                "use_external_ip": False,
                "node_ip": self.node_ip,
                "enable_loopback_candidate": True,
                # The UDP mux binds only these addresses (not the host's external one).
                "ips": {"includes": sorted({"127.0.0.1/32", f"{self.node_ip}/32"})},
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
            config["webhook"] = {"api_key": self.api_key, "urls": list(self.webhook_urls)}
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
