"""Bounds on untrusted structured input (JSON in model cards and .ora attributes).

Python's json module has no depth limit: a few hundred kilobytes of ``[[[[...`` raise
RecursionError (not ValueError) and can exhaust a small thread stack. ``loads_bounded``
checks the size, then the nesting depth with a linear scan, and only then parses, so a
hostile file costs milliseconds and raises ValueError (``JsonLimitError``) like any other
malformed JSON.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JsonLimitError", "json_depth", "loads_bounded"]

#: deepest nesting of arrays/objects accepted (cards and tool parameters need fewer than 10)
MAX_JSON_DEPTH = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonLimitError(ValueError):
    """JSON refused for its size or nesting depth (a ValueError, as json's own errors)."""


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` / ``{`` in JSON text (brackets inside strings do not count)."""
    outside = _STRING.sub("", text)
    steps = (_STEP[c] for c in _BRACKETS.findall(outside))
    return max(accumulate(steps), default=0)


def loads_bounded(text: str | bytes, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with limits: raises JsonLimitError (a ValueError) when ``text`` is longer than
    ``max_bytes`` or nests deeper than ``max_depth``, and ValueError when it is not JSON."""
    if len(text) > max_bytes:
        raise JsonLimitError(f"it is {len(text):,} bytes long, more than the limit of {max_bytes:,}")
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError
    depth = json_depth(text)
    if depth > max_depth:
        raise JsonLimitError(f"it nests {depth:,} levels deep, more than the limit of {max_depth}")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise JsonLimitError("it nests too deeply") from None
