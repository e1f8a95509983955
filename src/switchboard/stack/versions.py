"""Pinned versions of the LiveKit binaries the local stack builds.

A version bump is a one-line change here. livekit-sip v1.8.0 and livekit-server v1.13.5 share
psrpc v0.7.2, the bus they talk over through Redis, so they are bumped together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LIVEKIT_SERVER_VERSION = "v1.13.5"
LIVEKIT_SIP_VERSION = "v1.8.0"
JAEGER_VERSION = "v1.76.0"

DEBIAN_PACKAGES_FILE = Path(__file__).resolve().parents[3] / "scripts" / "debian-packages.txt"

# Used when the package runs outside a checkout (installed wheel): the stack's own needs.
STACK_DEBIAN_PACKAGES = (
    "redis-server",
    "sip-tester",
    "baresip",
    "libopus-dev",
    "libopusfile-dev",
    "libsoxr-dev",
    "pkg-config",
)


@dataclass(frozen=True)
class GoBinary:
    """A Go main package built from the module proxy at a pinned version."""

    name: str
    module: str
    version: str
    package: str
    cgo: bool

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}"


LIVEKIT_SERVER = GoBinary(
    name="livekit-server",
    module="github.com/livekit/livekit-server",
    version=LIVEKIT_SERVER_VERSION,
    package="github.com/livekit/livekit-server/cmd/server",
    cgo=False,
)

LIVEKIT_SIP = GoBinary(
    name="livekit-sip",
    module="github.com/livekit/sip",
    version=LIVEKIT_SIP_VERSION,
    package="github.com/livekit/sip/cmd/livekit-sip",
    cgo=True,
)

JAEGER = GoBinary(
    name="jaeger-all-in-one",
    module="github.com/jaegertracing/jaeger",
    version=JAEGER_VERSION,
    package="github.com/jaegertracing/jaeger/cmd/all-in-one",
    cgo=False,
)
"""The trace receiver (OTLP) and UI of the local stack and the trace tests."""


def debian_packages() -> list[str]:
    """The Debian packages the project needs, from the checkout's list when there is one."""
    if DEBIAN_PACKAGES_FILE.exists():
        lines = DEBIAN_PACKAGES_FILE.read_text().splitlines()
        return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return list(STACK_DEBIAN_PACKAGES)
