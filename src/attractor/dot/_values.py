"""DOT language layer (pure): the value types of spec §2.4 and their text forms.

Rule: attribute values are stored as the decoded strings the author wrote; these functions
give them types (Integer, Float, Boolean, Duration) on demand and never raise anything but
`ValueError` with a sentence a person can act on.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(-?[0-9]+)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_INTEGER = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# What Graphviz accepts unquoted: an identifier or a numeral. Anything else is quoted on output
# so that a formatted file is valid for Graphviz's own parser too (`attractor render`).
_GRAPHVIZ_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)")
_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "\n": ""}


def parse_duration(text: str) -> timedelta:
    """Parse a spec Duration (`250ms`, `900s`, `15m`, `2h`, `1d`).

    Raises:
        ValueError: if `text` is not an integer followed by one of ms, s, m, h, d.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        hint = " (add a unit, e.g. 900s)" if _INTEGER.fullmatch(text.strip()) else ""
        raise ValueError(f"{text!r} is not a duration like 250ms, 900s, 15m, 2h or 1d{hint}")
    return timedelta(milliseconds=int(match.group(1)) * _UNIT_MS[match.group(2)])


def parse_int(text: str) -> int:
    """Parse a spec Integer (optional sign, digits).

    Raises:
        ValueError: if `text` is not an integer.
    """
    if _INTEGER.fullmatch(text.strip()) is None:
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def parse_float(text: str) -> float:
    """Parse a spec Float (or Integer).

    Raises:
        ValueError: if `text` is not a decimal number.
    """
    if _FLOAT.fullmatch(text.strip()) is None:
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def parse_bool(text: str) -> bool:
    """Parse a spec Boolean: exactly `true` or `false`.

    Raises:
        ValueError: for anything else (including `True`, `1`, `yes`).
    """
    if text == "true":
        return True
    if text == "false":
        return False
    raise ValueError(f"{text!r} is not a boolean (write true or false)")


def unescape(body: str) -> str:
    """Decode the inside of a DOT double-quoted string.

    `\\"`, `\\\\`, `\\n`, `\\t` decode; a backslash-newline is a line continuation (Graphviz);
    any other backslash sequence (`\\l`, `\\N` …) is kept verbatim for Graphviz labels.
    """
    if "\\" not in body:
        return body
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape(value: str) -> str:
    """Encode `value` as the inside of a DOT double-quoted string (inverse of `unescape`)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def quote(value: str) -> str:
    """`value` as a DOT string literal."""
    return f'"{escape(value)}"'


def is_bare_safe(value: str) -> bool:
    """True when `value` may be written unquoted (valid for Graphviz and for us)."""
    return _GRAPHVIZ_ID.fullmatch(value) is not None and value.lower() not in _KEYWORDS


def format_value(value: str) -> str:
    """`value` bare when that is safe, quoted otherwise."""
    return value if is_bare_safe(value) else quote(value)


def derive_class(label: str) -> str:
    """Class name derived from a subgraph label (spec §2.10): "Loop A" -> "loop-a"."""
    lowered = label.lower().replace(" ", "-")
    return "".join(ch for ch in lowered if ch.isascii() and (ch.isalnum() or ch == "-"))


def split_classes(text: str) -> tuple[str, ...]:
    """The class names of a `class` attribute value ("code, critical" -> ("code", "critical"))."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
