"""Pure sine tones as G.711 RTP streams in pcap files that sipp's ``play_pcap_audio`` replays.

The layout copies sip-tester's own ``g711a.pcap``: classic little-endian pcap, Ethernet link
type, IPv4 + UDP + RTP, payload type 8 (PCMA), here 20 ms per packet. sipp sends each packet's
RTP bytes unchanged, so one long tone is written as consecutive blocks whose sequence numbers,
timestamps and sine phase continue from block to block: a replayed block would repeat old ones.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from pathlib import Path

PCMU = 0
PCMA = 8
TELEPHONE_EVENT = 101  # the payload type our scenarios' SDP gives RFC 4733 key presses
SAMPLE_RATE = 8000
PACKET_SAMPLES = 160  # 20 ms
SSRC = 0x5B0A7D01
_EVENT_PACKETS = 8  # 160 ms per key press, like sip-tester's own recordings
_EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}

_LINKTYPE_ETHERNET = 1
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET)
_ETHERNET = bytes.fromhex("00d0501001660004762220170800")
_SOURCE = (bytes([10, 1, 3, 143]), 6000)
_DESTINATION = (bytes([10, 1, 6, 18]), 6000)


def linear_to_ulaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 μ-law byte (14-bit magnitude, bias 33)."""
    value = sample >> 2
    sign = 0x80 if value < 0 else 0
    magnitude = min(abs(value), 8158) + 0x21
    exponent = max(0, magnitude.bit_length() - 6)
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def linear_to_alaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 A-law byte."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = (sample if sample >= 0 else ~sample) >> 3  # 13 bits; -1 - x for negative x
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


_ENCODERS = {PCMU: linear_to_ulaw, PCMA: linear_to_alaw}


def sine(freq_hz: float, count: int, *, first: int = 0, amplitude: float = 0.5) -> list[int]:
    """``count`` 16-bit samples of a sine at 8 kHz, starting at sample index ``first``."""
    step = 2 * math.pi * freq_hz / SAMPLE_RATE
    return [round(amplitude * 32767 * math.sin(step * (first + i))) for i in range(count)]


def write_tone_pcap(
    path: Path,
    freq_hz: float,
    duration_s: float,
    *,
    payload_type: int = PCMA,
    amplitude: float = 0.5,
    first_packet: int = 0,
    presses: Sequence[tuple[int, str]] = (),
) -> Path:
    """Write ``duration_s`` of a ``freq_hz`` sine as 20 ms RTP packets.

    ``first_packet`` numbers the first packet of the stream (sequence, timestamp and phase follow
    from it), so a block that continues another starts where that one stopped. ``presses`` are
    (ms from the start of the whole stream, key) RFC 4733 events sent in place of the tone's
    packets for 160 ms; sipp plays one pcap at a time per call (a second play stops the first),
    so key presses must travel inside the tone's own stream.
    """
    encode = _ENCODERS[payload_type]
    events = _event_slots(presses)
    out = bytearray(_PCAP_HEADER)
    for index in range(first_packet, first_packet + round(duration_s * 50)):
        elapsed_us = (index - first_packet) * 20_000
        if index in events:
            start, key, last = events[index]
            payload = struct.pack("!BBH", key, 0x8A if last else 0x0A, (index - start + 1) * 160)
            header = _rtp_header(TELEPHONE_EVENT, index, start, marker=index == start)
            for repeat in range(3 if last else 1):  # the end of an event is sent three times
                out += _record(elapsed_us + repeat * 100, header + payload)
            continue
        samples = sine(freq_hz, PACKET_SAMPLES, first=index * PACKET_SAMPLES, amplitude=amplitude)
        header = _rtp_header(payload_type, index, index, marker=index == 0)
        out += _record(elapsed_us, header + bytes(encode(s) for s in samples))
    path.write_bytes(bytes(out))
    return path


def tone_blocks(
    workdir: Path,
    freq_hz: float,
    total_ms: int,
    *,
    block_ms: int = 5000,
    payload_type: int = PCMA,
    presses: Sequence[tuple[int, str]] = (),
) -> list[tuple[int, Path]]:
    """One continuous tone of ``total_ms`` as (start offset in ms, pcap) blocks of ``block_ms``,
    with the key ``presses`` (ms from the start, key) in the blocks they fall in."""
    blocks = []
    for start in range(0, total_ms, block_ms):
        length = min(block_ms, total_ms - start)
        path = workdir / f"tone-{freq_hz:g}hz-{payload_type}-{start}.pcap"
        write_tone_pcap(
            path,
            freq_hz,
            length / 1000,
            payload_type=payload_type,
            first_packet=start // 20,
            presses=presses,
        )
        blocks.append((start, path))
    return blocks


def _event_slots(presses: Sequence[tuple[int, str]]) -> dict[int, tuple[int, int, bool]]:
    """Packet index → (index the event started at, event code, last packet of the event)."""
    slots = {}
    for at_ms, key in presses:
        start = at_ms // 20
        for index in range(start, start + _EVENT_PACKETS):
            slots[index] = (start, _EVENT_CODES[key], index == start + _EVENT_PACKETS - 1)
    return slots


def _rtp_header(payload_type: int, index: int, timestamp_index: int, *, marker: bool) -> bytes:
    return struct.pack(
        "!BBHII",
        0x80,
        payload_type | (0x80 if marker else 0),
        index & 0xFFFF,
        (timestamp_index * PACKET_SAMPLES) & 0xFFFFFFFF,
        SSRC,
    )


def _record(elapsed_us: int, rtp: bytes) -> bytes:
    frame = _ETHERNET + _ipv4_udp(rtp)
    seconds, micros = divmod(elapsed_us, 1_000_000)
    return struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame


def _ipv4_udp(payload: bytes) -> bytes:
    (source, source_port), (destination, destination_port) = _SOURCE, _DESTINATION
    udp = struct.pack("!HHHH", source_port, destination_port, 8 + len(payload), 0) + payload
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(udp), 0, 0x4000, 64, 17, 0, source, destination
    )
    return header[:10] + struct.pack("!H", _checksum(header)) + header[12:] + udp


def _checksum(header: bytes) -> int:
    total = sum(int.from_bytes(header[i : i + 2], "big") for i in range(0, len(header), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
