"""Many regexes searched in one pass, to index rules whose only selective test is a regex.

RE2's set matcher finds every pattern that matches a text in one linear scan (~2 µs for 1,000
patterns), where trying each rule's compiled ``re`` costs ~1.3 µs per rule. RE2 and Python's
``re`` differ at the edges, so the set is only a prefilter with a safe subset: patterns that are
ASCII, free of the few constructs the two read differently, and that RE2 accepts; texts that are
printable ASCII (no newline for ``$`` to treat differently, no Unicode classes). Anything else
falls back to the rule's own ``re`` test. The engine still runs every candidate's full test.

RE2 (``google-re2``) comes with the ``service`` extra. Without it nothing is indexable: regex
rules are simply scanned with ``re``, the same decisions, only slower with many of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

try:
    import re2
except ImportError:  # a base install (no service extra): regex rules are scanned, not indexed
    re2 = None

AVAILABLE: Final = re2 is not None
"""Whether RE2 is installed, so that regex rules can be indexed."""
_OPTIONS: Final = re2.Options() if AVAILABLE else None
if _OPTIONS is not None:
    _OPTIONS.log_errors = False  # an unsupported pattern is expected here, not an error to log
_READ_DIFFERENTLY: Final = ("[:", "{,")
"""POSIX classes (``re`` reads ``[[:digit:]]`` as a plain set) and ``{,n}`` (RE2: literal)."""


def indexable(pattern: str) -> bool:
    """Whether ``pattern`` can go into a ``RegexSet`` and match exactly what ``re`` matches."""
    if not AVAILABLE:
        return False
    if not pattern.isascii() or any(marker in pattern for marker in _READ_DIFFERENTLY):
        return False
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error:
        return False
    return True


def comparable(text: str) -> bool:
    """Whether RE2 and ``re`` agree on ``text`` for indexable patterns."""
    return text.isascii() and text.isprintable()


class RegexSet:
    """Rule positions by regex (``re.search`` semantics); ``candidates`` returns, in order, the
    positions of the rules whose regex may match a text."""

    def __init__(self) -> None:
        if not AVAILABLE:
            raise RuntimeError("RegexSet needs RE2: pip install 'livekit-switchboard[service]'")
        self._set = re2.Set.SearchSet(_OPTIONS)
        self._ids: dict[str, int] = {}
        self._positions: list[list[int]] = []
        self._every: list[int] = []

    def add(self, pattern: str, position: int) -> None:
        """Add a rule; rules are added in file order. ``pattern`` must be ``indexable``."""
        pattern_id = self._ids.get(pattern)
        if pattern_id is None:
            pattern_id = self._set.Add(pattern)
            self._ids[pattern] = pattern_id
            self._positions.append([])
        self._positions[pattern_id].append(position)
        self._every.append(position)

    def compile(self) -> None:
        """Build the matcher once every pattern is added."""
        self._set.Compile()

    def candidates(self, text: str) -> Sequence[int]:
        if not comparable(text):
            return self._every
        matched = self._set.Match(text)
        if not matched:
            return ()
        if len(matched) == 1:
            return self._positions[matched[0]]
        return sorted(
            position for pattern_id in matched for position in self._positions[pattern_id]
        )
