"""Writing a streamed answer with chunked transfer encoding, faults included (shell layer).

Rule: a stream is written event by event; scripted faults fire when `after_events` events have
been written (or after the last one when the stream is shorter), so a test can cut, corrupt or
fail a stream at an exact point. Without a per-event delay, events are batched into 64 KiB
chunks so a 20,000-delta stream is cheap to serve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import BinaryIO

from attractor.testing.fake_providers._scenario import Fault
from attractor.testing.fake_providers._wire import SseEvent

_BATCH_BYTES = 64 * 1024
GARBAGE_LINES = (
    b": keep-alive comment\n"
    b"x-unknown-field: ignored by SSE parsers\n"
    b"id: 42\n"
    b"retry: 1500\n"
    b"garbage line without a colon\n"
)

UNKNOWN_EVENT_NAME = "fake.unknown_event"
UNKNOWN_EVENT_DATA = b'{"type":"fake.unknown_event","note":"an event type no client knows"}'


def default_message(status: int) -> str:
    """A provider-like error message for a status code."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{phrase} (scripted by the fake provider server)"


def html_page(status: int) -> bytes:
    """The kind of HTML error page a proxy or load balancer answers with."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


class StreamWriter:
    """Writes SSE events (or a JSON array of chunks) as an HTTP/1.1 chunked body."""

    def __init__(
        self,
        out: BinaryIO,
        stopping: threading.Event,
        delay_ms: float,
        *,
        json_array: bool,
        named: bool,
    ) -> None:
        self._out = out
        self._named = named
        self._stopping = stopping
        self._delay_s = delay_ms / 1000.0
        self._json_array = json_array
        self._buffer = bytearray(b"[" if json_array else b"")
        self._garbage = False
        self._sent = 0

    def play(
        self,
        events: Iterable[SseEvent],
        fault: Fault | None,
        make_error: Callable[[int], SseEvent],
    ) -> bool:
        """Write the events, firing the fault on the way.

        Returns:
            True when the body was terminated properly, False when the connection must close.
        """
        try:
            for event in events:
                if fault is not None and self._sent == fault.after_events:
                    outcome = self._fire(fault, event, make_error)
                    if outcome is not None:
                        return outcome
                    if fault.kind == "malformed_json":
                        continue
                if not self._write(event):
                    return False
            if fault is not None and self._sent <= fault.after_events:
                outcome = self._fire(fault, None, make_error)
                if outcome is not None:
                    return outcome
            return self._finish()
        except OSError:
            return False  # the client went away

    def _fire(
        self, fault: Fault, event: SseEvent | None, make_error: Callable[[int], SseEvent]
    ) -> bool | None:
        if fault.kind == "disconnect":
            self._flush()
            return False
        if fault.kind == "error_event":
            self._write(make_error(self._sent))
            return self._finish()
        if fault.kind == "empty_body":
            return self._finish()
        if fault.kind == "garbage_sse":
            self._garbage = True
        if fault.kind == "unknown_event":
            self._write((UNKNOWN_EVENT_NAME if self._named else None, UNKNOWN_EVENT_DATA))
        if fault.kind == "malformed_json" and event is not None:
            name, data = event
            self._write((name, data[: max(1, len(data) // 2)]))
        return None

    def _write(self, event: SseEvent) -> bool:
        if self._delay_s and self._stopping.wait(self._delay_s):
            return False
        if self._stopping.is_set():
            return False
        self._buffer += self._frame(event)
        self._sent += 1
        if self._delay_s or len(self._buffer) >= _BATCH_BYTES:
            self._flush()
        return True

    def _frame(self, event: SseEvent) -> bytes:
        name, data = event
        if self._json_array:
            return data if self._sent == 0 else b",\r\n" + data
        head = GARBAGE_LINES if self._garbage else b""
        if name is not None:
            head += b"event: " + name.encode() + b"\n"
        return head + b"data: " + data + b"\n\n"

    def _flush(self) -> None:
        if self._buffer:
            self._out.write(b"%x\r\n%s\r\n" % (len(self._buffer), bytes(self._buffer)))
            self._out.flush()
            self._buffer.clear()

    def _finish(self) -> bool:
        if self._json_array:
            self._buffer += b"]"
        self._flush()
        self._out.write(b"0\r\n\r\n")
        self._out.flush()
        return True
