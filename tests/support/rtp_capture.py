"""What a phone really receives: tcpdump on its RTP port, G.711 decoded, tones measured.

``RtpCapture`` runs ``tcpdump -i any 'udp dst port N'`` (inside the test's network namespace)
while a sipp phone is in a call; iterating over it decodes the RTP that has arrived so far into
``Chunk``s of PCM with their arrival time. ``tone_level``, ``hears`` and ``rms`` measure any
chunks (also ones recorded from an rtc track) over a window of wall-clock time, the clock
tcpdump stamps packets with: take window edges from ``time.time()``.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from switchboard.stack.process import ManagedProcess

PCMU = 0
PCMA = 8
HEARD = 0.02
"""The ``tone_level`` above which a tone counts as heard: -34 dBFS. Against the real stack a
tone sent at 0.25 (rtc) or 0.5 (sipp) arrives at 0.25 or 0.49; one that is not sent measures
below 0.001 (G.711 quantisation noise of the other tone), 0.00002 in silence."""

_LINKTYPE_ETHERNET = 1
_LINKTYPE_LINUX_SLL = 113
_LINKTYPE_LINUX_SLL2 = 276
_BLOCK = 400  # 50 ms at 8 kHz: 20 Hz bins, short enough for packet loss not to smear a tone


@dataclass(frozen=True)
class Chunk:
    """PCM samples that arrived together (one RTP packet, one rtc audio frame)."""

    arrival: float  # wall-clock seconds (time.time())
    samples: tuple[int, ...]
    sample_rate: int = 8000


@dataclass(frozen=True)
class RtpPacket:
    arrival: float
    source_port: int
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def ulaw_to_linear(byte: int) -> int:
    """One G.711 μ-law byte as a 16-bit linear sample."""
    byte = ~byte & 0xFF
    magnitude = ((((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)) - 0x84
    return -magnitude if byte & 0x80 else magnitude


def alaw_to_linear(byte: int) -> int:
    """One G.711 A-law byte as a 16-bit linear sample."""
    byte ^= 0x55
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    segment = (mantissa << 4) + (8 if exponent == 0 else 0x108)
    magnitude = segment << max(exponent - 1, 0)
    return magnitude if byte & 0x80 else -magnitude


_ULAW = [ulaw_to_linear(b) for b in range(256)]
_ALAW = [alaw_to_linear(b) for b in range(256)]
_DECODERS = {PCMU: _ULAW, PCMA: _ALAW}


class RtpCapture:
    """tcpdump writing every UDP packet to ``port`` into ``pcap``, until ``stop``."""

    def __init__(self, workdir: Path, port: int, name: str = "") -> None:
        self.port = port
        name = name or f"rtp-{port}"
        self.pcap = workdir / f"{name}.pcap"
        self._process = ManagedProcess(
            name=name,
            # --immediate-mode -U: each packet reaches the file as it arrives (by default the
            # kernel hands them over in blocks, up to a second late), so a running capture can
            # be read; -Z root: keep the privileges to write where the test's files are.
            argv=[
                "tcpdump",
                "-i",
                "any",
                "-n",
                "--immediate-mode",
                "-U",
                "-Z",
                "root",
                "-w",
                str(self.pcap),
                f"udp dst port {port}",
            ],
            log_path=workdir / f"{name}.log",
        )

    def start(self, timeout: float = 10.0) -> RtpCapture:
        self._process.start()
        self._process.wait_ready(lambda: "listening on" in self._process.tail(), timeout)
        return self

    def stop(self) -> None:
        """End tcpdump (SIGTERM: it flushes and closes the file)."""
        self._process.stop(grace=3.0)

    def __enter__(self) -> RtpCapture:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def packets(self) -> list[RtpPacket]:
        """The RTP packets captured so far (G.711, telephone-event or anything else)."""
        return list(read_rtp(self.pcap)) if self.pcap.exists() else []

    def __iter__(self) -> Iterator[Chunk]:
        return iter(decode(self.packets()))


def decode(packets: Iterable[RtpPacket]) -> list[Chunk]:
    """PCM of the G.711 packets (other payload types, like DTMF events, are left out)."""
    chunks = []
    for packet in packets:
        table = _DECODERS.get(packet.payload_type)
        if table is not None:
            chunks.append(Chunk(packet.arrival, tuple(table[b] for b in packet.payload)))
    return chunks


def read_rtp(pcap: Path) -> Iterator[RtpPacket]:
    """RTP over UDP/IPv4 or IPv6 in a pcap of Ethernet or Linux cooked (SLL, SLL2) frames."""
    data = pcap.read_bytes()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    fraction = 1e-9 if magic in (0xA1B23C4D, 0x4D3CB2A1) else 1e-6
    linktype = struct.unpack(f"{endian}I", data[20:24])[0] & 0x0FFFFFFF
    offset = 24
    while offset + 16 <= len(data):
        seconds, part, included, _ = struct.unpack(f"{endian}IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + included]
        offset += 16 + included
        datagram = _udp(_network_layer(frame, linktype))
        if datagram is None or len(datagram[1]) < 12:
            continue
        source_port, rtp = datagram
        first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", rtp[:12])
        if first >> 6 != 2:
            continue
        start = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(rtp) >= start + 4:
            start += 4 + 4 * struct.unpack("!H", rtp[start + 2 : start + 4])[0]
        end = len(rtp) - (rtp[-1] if first & 0x20 else 0)
        yield RtpPacket(
            seconds + part * fraction,
            source_port,
            second & 0x7F,
            sequence,
            timestamp,
            ssrc,
            rtp[start:end],
        )


def _network_layer(frame: bytes, linktype: int) -> tuple[int, bytes]:
    """(EtherType, the IP packet) of a link-layer frame."""
    if linktype == _LINKTYPE_ETHERNET:
        return struct.unpack("!H", frame[12:14])[0], frame[14:]
    if linktype == _LINKTYPE_LINUX_SLL:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == _LINKTYPE_LINUX_SLL2:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    raise ValueError(f"pcap link type {linktype} is not Ethernet, SLL or SLL2")


def _udp(layer: tuple[int, bytes]) -> tuple[int, bytes] | None:
    """(source port, UDP payload) of an IPv4 or IPv6 packet carrying UDP."""
    ethertype, packet = layer
    if ethertype == 0x0800 and len(packet) >= 20 and packet[9] == 17:
        segment = packet[4 * (packet[0] & 0x0F) :]
    elif ethertype == 0x86DD and len(packet) >= 40 and packet[6] == 17:
        segment = packet[40:]
    else:
        return None
    if len(segment) < 8:
        return None
    source_port, _, length, _ = struct.unpack("!HHHH", segment[:8])
    return source_port, segment[8:length]


def _window(chunks: Iterable[Chunk], start: float | None, end: float | None) -> Iterator[Chunk]:
    for chunk in chunks:
        if (start is None or chunk.arrival >= start) and (end is None or chunk.arrival < end):
            yield chunk


def _blocks(chunks: Iterable[Chunk]) -> Iterator[tuple[list[int], int]]:
    """The window's samples in 50 ms blocks, per sample rate."""
    pending: list[int] = []
    rate = 0
    for chunk in chunks:
        if chunk.sample_rate != rate:
            pending, rate = [], chunk.sample_rate
        pending.extend(chunk.samples)
        size = _BLOCK * rate // 8000
        while len(pending) >= size:
            yield pending[:size], rate
            del pending[:size]


def _goertzel(samples: list[int], rate: int, freq_hz: float) -> float:
    """Amplitude of ``freq_hz`` in ``samples`` (Hann window), as a fraction of full scale."""
    n = len(samples)
    coefficient = 2 * math.cos(2 * math.pi * freq_hz / rate)
    previous = before = 0.0
    weights = 0.0
    for i, sample in enumerate(samples):
        weight = 0.5 - 0.5 * math.cos(2 * math.pi * i / n)
        weights += weight
        previous, before = sample * weight + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    return 2 * math.sqrt(max(power, 0.0)) / weights / 32768


def tone_level(
    chunks: Iterable[Chunk], freq_hz: float, start: float | None = None, end: float | None = None
) -> float:
    """The level of a ``freq_hz`` tone in the audio that arrived in [start, end).

    Goertzel on 50 ms blocks, averaged in power: 0.5 for a sine at half full scale (-6 dBFS)
    throughout the window, 0.0 when the window holds no audio at all.
    """
    levels = [
        _goertzel(block, rate, freq_hz) for block, rate in _blocks(_window(chunks, start, end))
    ]
    return math.sqrt(sum(x * x for x in levels) / len(levels)) if levels else 0.0


def hears(
    chunks: Iterable[Chunk],
    freq_hz: float,
    window: tuple[float | None, float | None] = (None, None),
) -> bool:
    """True when ``tone_level`` of ``freq_hz`` in ``window`` is above ``HEARD``."""
    return tone_level(chunks, freq_hz, *window) > HEARD


def rms(chunks: Iterable[Chunk], start: float | None = None, end: float | None = None) -> float:
    """Root mean square of the audio that arrived in [start, end), as a fraction of full scale."""
    total = count = 0
    for chunk in _window(chunks, start, end):
        total += sum(s * s for s in chunk.samples)
        count += len(chunk.samples)
    return math.sqrt(total / count) / 32768 if count else 0.0


def wait_for_audio(capture: RtpCapture, timeout: float = 10.0) -> None:
    """Block until the first G.711 packet has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(True for _ in capture):
            return
        time.sleep(0.2)
    raise AssertionError(f"no G.711 RTP arrived at port {capture.port} within {timeout}s")
