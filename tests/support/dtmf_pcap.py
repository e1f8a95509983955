"""RFC 2833 DTMF key presses as pcap files for sipp's play_pcap_audio.

sipp replays a pcap's RTP packets as they are; livekit-sip drops a DTMF event whose RTP timestamp
it has already seen, so pressing the same key twice needs two files with different timestamps.
Each file is sip-tester's own recording of the key, shifted in sequence number and timestamp.
"""

from __future__ import annotations

import struct
from pathlib import Path

SIP_TESTER = Path("/usr/share/sip-tester")
_PCAP_HEADER = 24
_RECORD_HEADER = 16
_RTP_OFFSET = 14 + 20 + 8  # ethernet + IPv4 + UDP


def shifted_presses(workdir: Path, digit: str, count: int) -> list[Path]:
    """``count`` pcap files pressing ``digit`` once each, every one with fresh RTP timestamps."""
    source = (SIP_TESTER / f"dtmf_2833_{digit}.pcap").read_bytes()
    return [_shift(source, workdir / f"dtmf-{digit}-{i}.pcap", i + 1) for i in range(count)]


def _shift(pcap: bytes, target: Path, step: int) -> Path:
    out = bytearray(pcap[:_PCAP_HEADER])
    offset = _PCAP_HEADER
    while offset < len(pcap):
        _ts, _us, included, _orig = struct.unpack("<IIII", pcap[offset : offset + _RECORD_HEADER])
        record = bytearray(pcap[offset : offset + _RECORD_HEADER + included])
        rtp = _RECORD_HEADER + _RTP_OFFSET
        seq, timestamp = struct.unpack("!HI", record[rtp + 2 : rtp + 8])
        record[rtp + 2 : rtp + 8] = struct.pack(
            "!HI", (seq + 1000 * step) & 0xFFFF, (timestamp + 80_000 * step) & 0xFFFFFFFF
        )
        record[_RECORD_HEADER + 14 + 20 + 6 : _RECORD_HEADER + 14 + 20 + 8] = b"\0\0"  # UDP sum
        out += record
        offset += _RECORD_HEADER + included
    target.write_bytes(bytes(out))
    return target
