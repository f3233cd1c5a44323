"""Events layer (pure): the line codec — one event, one line, one link of the hash chain.

Rule: a line is `{"seq":N,"at":"…","stream":"…",["v":N,]"type":"…",<fields>,"hash":"…"}`, written
in exactly that order. `hash` is the first 16 hex digits of BLAKE2b over the previous line's hash
and every byte of this line before `,"hash"`, so any change to any line — the last one included —
breaks the chain at the line that changed.

Keyed chain (ADR 0104): a codec given a log key writes `"mac"` instead of `"hash"` — 16 hex
digits of *keyed* BLAKE2b over the same bytes — so only a holder of the key can re-chain an
edited log. A keyed codec refuses plain `hash` lines (a re-hashed or unkeyed log); an unkeyed
codec refuses `mac` lines with `LogKeyError` (it cannot check them). Without a key, lines are
byte for byte what they always were.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from typing import Any, Final

import msgspec

from attractor.events._errors import (
    LogCorruptError,
    LogKeyError,
    NewerSchemaError,
    UnknownEventTypeError,
)
from attractor.events._event import Event, event_classes, event_tag, upcast

GENESIS: Final = ""
_HASH_LEN: Final = 16
_HASH_FIELD: Final = b',"hash":"'
_MAC_FIELD: Final = b',"mac":"'
_SUFFIX_LEN: Final = len(_HASH_FIELD) + _HASH_LEN + len(b'"}')
_MAC_SUFFIX_LEN: Final = len(_MAC_FIELD) + _HASH_LEN + len(b'"}')
_KEY_PERSON: Final = b"attractor.log"
_STREAM_RE: Final = re.compile(r"[A-Za-z0-9_.:/@+=\-]+")
_PREFIX_RE: Final = re.compile(
    rb'\{"seq":(\d+),"at":"([^"\\]*)","stream":"([^"\\]*)",(?:"v":(\d+),)?'
)


class Entry(msgspec.Struct, frozen=True, gc=False):
    """An event as stored: its envelope (seq, at, stream, hash) and the event itself."""

    seq: int
    at: str
    stream: str
    event: Event
    hash: str


def chain_hash(prev: str, body: bytes) -> str:
    """The hash of a line: BLAKE2b-64 of the previous hash and the line's bytes before `hash`."""
    return hashlib.blake2b(prev.encode() + body, digest_size=_HASH_LEN // 2).hexdigest()


def derive_key(secret: bytes) -> bytes:
    """The 32-byte BLAKE2b key for a log key of any length."""
    return hashlib.blake2b(secret, digest_size=32, person=_KEY_PERSON).digest()


def chain_mac(key: bytes, prev: str, body: bytes) -> str:
    """The keyed tag of a line: keyed BLAKE2b-64 (`derive_key`'s key) of `prev` and the body."""
    return hashlib.blake2b(prev.encode() + body, digest_size=_HASH_LEN // 2, key=key).hexdigest()


def check_stream(stream: str) -> str:
    """Return `stream` if it is a valid stream name, else raise ValueError."""
    if not _STREAM_RE.fullmatch(stream):
        raise ValueError(
            f"invalid stream name {stream!r}: use letters, digits and _.:/@+=- "
            "(e.g. 'run/node:plan')"
        )
    return stream


class LineCodec:
    """Encodes events to log lines and decodes lines back, for the event classes defined so far.

    One codec is built once and reused; it rebuilds its decoder when new event classes appear.
    """

    def __init__(self, path: str = "<log>", key: bytes | None = None) -> None:
        self.path = path
        self.key = key
        self._encoder = msgspec.json.Encoder()
        self._classes: dict[str, type[Event]] = {}
        self._decoder: msgspec.json.Decoder[Any] | None = None
        self._generic = msgspec.json.Decoder(dict[str, Any])

    def _refresh(self) -> None:
        self._classes = event_classes()
        union = tuple(self._classes.values())
        self._decoder = msgspec.json.Decoder(Event if not union else _union(union))

    def encode(self, seq: int, at: str, stream: str, event: Event, prev: str) -> tuple[bytes, str]:
        """Encode one event as a line (without the newline); return the line and its hash."""
        version = type(event).schema_version
        body = self._encoder.encode(event)
        head = b'{"seq":%d,"at":"%s","stream":"%s",' % (seq, at.encode(), stream.encode())
        if version != 1:
            head += b'"v":%d,' % version
        unhashed = head + body[1:-1]
        if self.key is not None:
            tag = chain_mac(self.key, prev, unhashed)
            return unhashed + _MAC_FIELD + tag.encode() + b'"}', tag
        digest = chain_hash(prev, unhashed)
        return unhashed + _HASH_FIELD + digest.encode() + b'"}', digest

    def encode_event(self, event: Event) -> bytes:
        """The event's own JSON, without the envelope (used for digests and comparisons)."""
        return self._encoder.encode(event)

    def decode(self, line: bytes, lineno: int, prev: str) -> Entry:
        """Decode and check one line (without the newline) against the previous line's hash."""
        unhashed, digest = self._check_chain(line, lineno, prev)
        head = _PREFIX_RE.match(unhashed)
        if head is None:
            raise self._corrupt(
                lineno, "not an event line: envelope seq/at/stream is malformed", line
            )
        seq, at, stream, version = head.groups()
        body = b"{" + unhashed[head.end() :] + b"}"
        event = self._decode_body(body, int(version) if version else 1, lineno)
        return Entry(seq=int(seq), at=at.decode(), stream=stream.decode(), event=event, hash=digest)

    def _check_chain(self, line: bytes, lineno: int, prev: str) -> tuple[bytes, str]:
        """The line's bytes before its chain field, and its checked hash (or MAC)."""
        if not line.endswith(b'"}'):
            raise self._corrupt(lineno, 'not an event line: it does not end with `"}`', line)
        cut = len(line) - _SUFFIX_LEN
        if cut >= 0 and line[cut : cut + len(_HASH_FIELD)] == _HASH_FIELD:
            if self.key is not None:
                raise LogCorruptError(
                    self.path,
                    "not keyed: this line carries a plain hash where the log key expects a MAC "
                    "(the log was written, or re-hashed, without the key)",
                    line=lineno,
                    hint="a log written before the key was set reads only with "
                    "ATTRACTOR_LOG_KEY unset — and then without tamper evidence",
                )
            unhashed, digest = line[:cut], chain_hash(prev, line[:cut])
        else:
            cut = len(line) - _MAC_SUFFIX_LEN
            if cut < 0 or line[cut : cut + len(_MAC_FIELD)] != _MAC_FIELD:
                raise self._corrupt(
                    lineno, "not an event line: the closing `hash` field is missing", line
                )
            if self.key is None:
                raise LogKeyError(
                    self.path,
                    "the log is keyed (written with a log key); its lines cannot be checked "
                    "without that key",
                    line=lineno,
                    hint="set ATTRACTOR_LOG_KEY (or ATTRACTOR_LOG_KEY_FILE) to the key it was "
                    "written with",
                )
            unhashed, digest = line[:cut], chain_mac(self.key, prev, line[:cut])
        if digest.encode() != line[-(_HASH_LEN + 2) : -2]:
            raise LogCorruptError(self.path, self._broken(), line=lineno, hint=self._mend())
        return unhashed, digest

    def _broken(self) -> str:
        if self.key is None:
            return (
                "hash chain broken: this line, or the one before it, was changed, removed or "
                "reordered"
            )
        return (
            "MAC chain broken: this line, or the one before it, was changed, removed or "
            "reordered, or the log was written with another key"
        )

    def _mend(self) -> str:
        return "`attractor log verify` names the first bad line; restore it from a copy"

    def _decode_body(self, body: bytes, version: int, lineno: int) -> Event:
        if self._decoder is None:
            self._refresh()
        assert self._decoder is not None
        try:
            event: Event = self._decoder.decode(body)
        except msgspec.DecodeError as exc:
            return self._slow_path(body, version, lineno, exc)
        if type(event).schema_version != version:
            return self._slow_path(body, version, lineno, None)
        return event

    def _slow_path(
        self, body: bytes, version: int, lineno: int, exc: msgspec.DecodeError | None
    ) -> Event:
        """Handle the rare lines: unknown types, old shapes (upcast), newer shapes, bad fields."""
        try:
            fields = self._generic.decode(body)
        except msgspec.DecodeError as err:
            raise self._corrupt(lineno, f"invalid JSON: {err}", body) from None
        tag = fields.pop("type", None)
        if not isinstance(tag, str):
            raise self._corrupt(lineno, "the event has no string `type` field", body)
        cls = self._classes.get(tag)
        if cls is None:
            self._refresh()  # a class may have been defined since the decoder was built
            cls = self._classes.get(tag)
        if cls is None:
            close = difflib.get_close_matches(tag, list(self._classes), n=3)
            raise UnknownEventTypeError(
                self.path,
                f"unknown event type {tag!r}",
                line=lineno,
                hint=f"did you mean {', '.join(close)}?"
                if close
                else "the log may come from a plugin or a newer Attractor",
            )
        if version > cls.schema_version:
            raise NewerSchemaError(
                self.path,
                f"event {tag!r} has schema version {version}; this Attractor reads up to "
                f"{cls.schema_version}",
                line=lineno,
                hint="upgrade attractor to read this log",
            )
        if version < cls.schema_version:
            upgraded = upcast(tag, version, cls.schema_version, fields)
            if upgraded is None:
                raise LogCorruptError(
                    self.path,
                    f"no upcaster from {tag!r} v{version} to v{cls.schema_version}",
                    line=lineno,
                )
            return self._convert(cls, upgraded, lineno)
        assert exc is not None
        raise self._corrupt(lineno, f"event {tag!r} does not fit its schema: {exc}", body)

    def _convert(self, cls: type[Event], fields: dict[str, Any], lineno: int) -> Event:
        try:
            return msgspec.convert({"type": event_tag(cls), **fields}, cls)
        except msgspec.ValidationError as exc:
            raise self._corrupt(
                lineno, f"upcast event does not fit its schema: {exc}", b""
            ) from None

    def _corrupt(self, lineno: int, reason: str, line: bytes) -> LogCorruptError:
        excerpt = line[:80].decode("utf-8", "replace")
        hint = f"the line starts with {excerpt!r}" if excerpt else ""
        return LogCorruptError(self.path, reason, line=lineno, hint=hint)


def _union(classes: tuple[type[Event], ...]) -> Any:
    union: Any = classes[0]
    for cls in classes[1:]:
        union = union | cls
    return union
