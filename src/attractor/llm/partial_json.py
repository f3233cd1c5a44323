"""Incremental JSON: the value a JSON *prefix* denotes so far (for `stream_object`).

Layer: llm (pure). Rule: `parse_partial` reads a prefix of a JSON document and returns the
largest value that prefix already determines: open strings are cut where they stop, containers
are closed, a key without its value and an unfinished literal or number are left out. A prefix
that can never become valid JSON raises `PartialJsonError` with its offset.

It also tolerates what models wrap JSON in: a leading ```json fence and prose before the
first `{` or `[`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PartialJsonError", "extract_json_text", "parse_partial"]


class PartialJsonError(ValueError):
    """The text is not a prefix of any JSON document."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


class _Incomplete(Exception):
    """The input ended inside a value that has nothing usable yet."""


_MISSING: Any = object()
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WS = " \t\r\n"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in _WS:
            self.i += 1

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.text)

    def value(self) -> Any:
        if self.at_end():
            raise _Incomplete
        ch = self.text[self.i]
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.arr()
        if ch == '"':
            return self.string()[0]
        return self.scalar()

    def obj(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            if self.at_end():
                return out
            if self.text[self.i] == "}":
                self.i += 1
                return out
            if self.text[self.i] == ",":
                self.i += 1
                continue
            if self.text[self.i] != '"':
                raise PartialJsonError("expected a string key", self.i)
            key, closed = self.string()
            if not closed or self.at_end():
                return out
            if self.text[self.i] != ":":
                raise PartialJsonError("expected ':'", self.i)
            self.i += 1
            try:
                out[key] = self.value()
            except _Incomplete:
                return out

    def arr(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            if self.at_end():
                return out
            if self.text[self.i] == "]":
                self.i += 1
                return out
            if self.text[self.i] == ",":
                self.i += 1
                continue
            try:
                out.append(self.value())
            except _Incomplete:
                return out

    def string(self) -> tuple[str, bool]:
        self.i += 1
        chunks: list[str] = []
        text = self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch == '"':
                self.i += 1
                return "".join(chunks), True
            if ch != "\\":
                chunks.append(ch)
                self.i += 1
                continue
            if self.i + 1 >= len(text):
                break
            esc = text[self.i + 1]
            if esc == "u":
                char = self.unicode_escape()
                if char is None:
                    break
                chunks.append(char)
                continue
            if esc not in _ESCAPES:
                raise PartialJsonError(f"bad escape \\{esc}", self.i)
            chunks.append(_ESCAPES[esc])
            self.i += 2
        self.i = len(text)
        return "".join(chunks), False

    def hex4(self, at: int) -> int | None:
        code = self.text[at : at + 4]
        if len(code) < 4:
            return None
        try:
            return int(code, 16)
        except ValueError:
            raise PartialJsonError("bad \\u escape", at - 2) from None

    def unicode_escape(self) -> str | None:
        """Decode `\\uXXXX` (joining surrogate pairs); None when the input ends inside it."""
        high = self.hex4(self.i + 2)
        if high is None:
            return None
        if 0xD800 <= high <= 0xDBFF:
            rest = self.text[self.i + 6 : self.i + 12]
            if len(rest) < 6 and _may_start_escape(rest):
                return None
            if self.text[self.i + 6 : self.i + 8] == "\\u":
                low = self.hex4(self.i + 8)
                if low is not None and 0xDC00 <= low <= 0xDFFF:
                    self.i += 12
                    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        self.i += 6
        return chr(high)

    def scalar(self) -> Any:
        start = self.i
        while self.i < len(self.text) and self.text[self.i] not in ",]}" + _WS:
            self.i += 1
        token = self.text[start : self.i]
        complete = self.i < len(self.text)
        for literal, value in (("true", True), ("false", False), ("null", None)):
            if token == literal:
                return value
            if literal.startswith(token) and not complete:
                raise _Incomplete
        return self.number(token, start, complete)

    @staticmethod
    def number(token: str, start: int, complete: bool) -> Any:
        try:
            value = float(token) if any(c in token for c in ".eE") else int(token)
        except ValueError:
            if not complete and (token in ("-", "") or token.endswith(("e", "E", "-", "+", "."))):
                raise _Incomplete from None
            raise PartialJsonError(f"invalid token {token!r}", start) from None
        if not complete:
            raise _Incomplete  # "12" may still become "123": wait for the delimiter
        return value


def _may_start_escape(rest: str) -> bool:
    """Whether `rest` could be the cut-off start of a `\\uXXXX` escape."""
    return "\\u".startswith(rest[:2]) and all(c in "0123456789abcdefABCDEF" for c in rest[2:])


def extract_json_text(text: str) -> str:
    """The JSON part of a model answer: strips ```json fences and prose before `{`/`[`."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    starts = [i for i in (stripped.find("{"), stripped.find("[")) if i >= 0]
    return stripped[min(starts) :] if starts else stripped


def parse_partial(text: str) -> Any:
    """The value determined so far by the JSON prefix `text` (None when nothing yet)."""
    parser = _Parser(extract_json_text(text))
    try:
        value = parser.value()
    except _Incomplete:
        return None
    if not parser.at_end():
        rest = parser.text[parser.i :].strip()
        if not rest.startswith("```"):
            raise PartialJsonError("unexpected text after the JSON value", parser.i)
    return value
