"""HTTP handling of the fake provider server (shell layer: sockets, threads, sleeps).

Rule: the handler only moves bytes. Which wire API a path belongs to, what to answer and how
it looks are decided by the routing table, the scenario state and the pure wire modules.
Every request is recorded (secrets redacted) before anything can refuse it.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qsl, urlsplit

import msgspec

from attractor.testing.fake_providers._caching import cacheable_prefixes
from attractor.testing.fake_providers._recording import (
    RecordedRequest,
    key_digest,
    redact_headers,
    redact_query,
)
from attractor.testing.fake_providers._scenario import Api, Fault, RequestView, Step, Usage
from attractor.testing.fake_providers._state import ServerState
from attractor.testing.fake_providers._stream import StreamWriter, default_message, html_page
from attractor.testing.fake_providers._validate import Validator
from attractor.testing.fake_providers._wire import Answer, Wire, WireError, resolve
from attractor.testing.fake_providers.anthropic_messages import AnthropicMessages
from attractor.testing.fake_providers.gemini_generate import (
    ALT_SSE,
    GeminiGenerate,
    with_retry_info,
)
from attractor.testing.fake_providers.openai_chat import OpenAIChat
from attractor.testing.fake_providers.openai_responses import OpenAIResponses

MAX_BODY_BYTES = 32 * 1024 * 1024
IDLE_TIMEOUT_S = 30.0
_GEMINI_PATH = re.compile(
    r"^/(?:v1|v1beta|v1alpha)/models/([^/:]+:(?:generateContent|streamGenerateContent))$"
)
_ROUTES: dict[str, Wire] = {
    "/v1/responses": OpenAIResponses(),
    "/v1/chat/completions": OpenAIChat(),
    "/v1/messages": AnthropicMessages(),
}
_GEMINI = GeminiGenerate()
_CALL_ID_PREFIX = {
    "openai_responses": "call_fake",
    "openai_chat": "call_fake",
    "anthropic_messages": "toolu_fake",
    "gemini_generate": "gemini_fake",
}


def route(path: str) -> tuple[Wire | None, str | None]:
    """The wire API serving a path, and the `model:action` part of Gemini paths."""
    if path in _ROUTES:
        return _ROUTES[path], None
    match = _GEMINI_PATH.match(path)
    if match:
        return _GEMINI, match.group(1)
    return None, None


class FakeHTTPServer(ThreadingMixIn, HTTPServer):
    """A threading HTTP server that can close every live connection when it stops."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        state: ServerState,
        validators: Mapping[Api, Validator] | None = None,
    ) -> None:
        self.state = state
        self.validators = validators
        self.stopping = threading.Event()
        self._live: set[socket.socket] = set()
        self.internal_errors: list[BaseException] = []
        self._live_lock = threading.Lock()
        super().__init__(address, FakeHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so `drop_connections` can end it."""
        with self._live_lock:
            self._live.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep a handler crash for `FakeProviderServer.internal_errors` instead of printing it.

        A client resetting or abandoning its connection is normal, not a crash.
        """
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            with self._live_lock:
                self.internal_errors.append(error)

    def drop_connections(self) -> None:
        """Shut every live connection down so idle keep-alive threads end at once."""
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):  # already closed by its peer
                sock.shutdown(socket.SHUT_RDWR)


class FakeHandler(BaseHTTPRequestHandler):
    """Serves one connection: parse, record, pick a step, write the answer."""

    protocol_version = "HTTP/1.1"
    server_version = "attractor-fake-providers"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's
    # delayed ACK would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent: request lines may carry `?key=` secrets."""

    def do_GET(self) -> None:
        """Answer 404 (or 405 on a known POST route)."""
        self._refuse_method()

    def do_PUT(self) -> None:
        """Answer 404 (or 405 on a known POST route)."""
        self._refuse_method()

    def do_DELETE(self) -> None:
        """Answer 404 (or 405 on a known POST route)."""
        self._refuse_method()

    def do_POST(self) -> None:
        """Serve one provider call."""
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        wire, path_model = route(url.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        key = wire.api_key(headers, query) if wire else None
        refusal = self._body_refusal()
        body = b"" if refusal else self._read_body()
        ordinal = self._record(url.path, query, headers, body, wire, key)
        if refusal:
            self.close_connection = True  # the unread body would corrupt the next request
            self._send_json(refusal[0], _plain_error(refusal[1]), {})
            return
        if wire is None:
            self._send_json(404, _not_found(url.path), {})
            return
        try:
            self._serve(wire, _Incoming(ordinal, path_model, query, headers, body, key))
        except WireError as exc:
            self._send_error(wire, exc.status, exc.message, None, {})

    def _serve(self, wire: Wire, incoming: _Incoming) -> None:
        wire.check_headers(incoming.headers)
        accepted = self.server.state.scenario.accepted_api_keys
        key = incoming.key
        if key is None or (accepted is not None and key not in accepted):
            status, message, code = wire.key_error(key)
            self._send_error(wire, status, message, code, {})
            return
        body = _decode(incoming.body)
        self._check_body(wire, body)
        view = wire.view(body, incoming.path_model, incoming.query)
        step = self._with_cache_usage(self.server.state.take_step(view), wire, body, incoming)
        prefix = _CALL_ID_PREFIX[wire.api]
        answer = resolve(step, view, incoming.ordinal, len(incoming.body), prefix)
        self._answer(wire, view, step, answer)

    def _with_cache_usage(self, step: Step, wire: Wire, body: Any, incoming: _Incoming) -> Step:
        state = self.server.state
        given = step.usage or Usage()
        scripted = given.cache_read_tokens or given.cache_write_tokens
        if not state.scenario.prompt_caching or scripted or step.error is not None:
            return step
        scope = key_digest(incoming.key or "")
        read, write = state.cache_lookup(wire.api, cacheable_prefixes(wire.api, body, scope))
        input_tokens = given.input_tokens or max(1, len(incoming.body) // 4, read + write)
        usage = msgspec.structs.replace(
            given, input_tokens=input_tokens, cache_read_tokens=read, cache_write_tokens=write
        )
        return msgspec.structs.replace(step, usage=usage)

    def _check_body(self, wire: Wire, body: Any) -> None:
        validators = self.server.validators
        if validators is None:
            return
        problems = validators[wire.api](body)
        if problems:
            shown = "; ".join(problems)
            raise WireError(400, f"Invalid request (checked against the official SDK): {shown}")

    def _answer(self, wire: Wire, view: RequestView, step: Step, answer: Answer) -> None:
        extra = dict(step.headers)
        if step.error is not None:
            error = step.error
            if error.retry_after is not None:
                extra["retry-after"] = error.retry_after
            message = error.message or default_message(error.status)
            body = wire.render_error(error.status, message, error.code)
            if wire.api == "gemini_generate":
                body = with_retry_info(body, error.retry_after)
            self._send_json(error.status, body, extra)
        elif step.fault is not None and step.fault.kind == "html":
            self._send_raw(
                step.fault.status, "text/html; charset=utf-8", html_page(step.fault.status), extra
            )
        elif view.stream:
            self._stream(wire, view, step, answer, extra)
        else:
            self._respond(wire, step.fault, answer, extra)

    def _respond(
        self, wire: Wire, fault: Fault | None, answer: Answer, extra: dict[str, str]
    ) -> None:
        payload = msgspec.json.encode(wire.render_body(answer))
        kind = fault.kind if fault else None
        if kind == "error_event" and fault is not None:
            message = default_message(fault.status)
            self._send_error(wire, fault.status, message, None, extra)
        elif kind == "malformed_json":
            self._send_raw(200, "application/json", payload[: len(payload) // 2], extra)
        elif kind == "empty_body":
            self._send_raw(200, "application/json", b"", extra)
        elif kind == "wrong_content_type":
            self._send_raw(200, "text/plain; charset=utf-8", payload, extra)
        elif kind == "disconnect":
            self._send_truncated(payload, extra)
        else:
            self._send_raw(200, "application/json", payload, extra)

    def _stream(
        self, wire: Wire, view: RequestView, step: Step, answer: Answer, extra: dict[str, str]
    ) -> None:
        json_array = wire.api == "gemini_generate" and ALT_SSE not in view.flags
        fault = step.fault
        content_type = "application/json" if json_array else "text/event-stream; charset=utf-8"
        if fault is not None and fault.kind == "wrong_content_type":
            content_type = "application/json" if not json_array else "text/plain"
        self._start_chunked(content_type, extra)
        writer = StreamWriter(
            cast(BinaryIO, self.wfile),
            self.server.stopping,
            step.chunk_delay_ms,
            json_array=json_array,
            named=wire.named_events,
        )
        events: Iterator[Any] = wire.render_stream(answer)
        completed = writer.play(
            events, fault, lambda sent: _stream_error(wire, answer, fault, sent)
        )
        if not completed:
            self.close_connection = True

    def _content_length(self) -> int:
        try:
            return int(self.headers.get("content-length") or 0)
        except ValueError:
            return -1

    def _body_refusal(self) -> tuple[int, str] | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return 411, "chunked request bodies are not supported"
        if not 0 <= self._content_length() <= MAX_BODY_BYTES:
            return 413, "request body too large or bad length"
        return None

    def _read_body(self) -> bytes:
        length = self._content_length()
        return self.rfile.read(length) if length else b""

    def _record(
        self,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        wire: Wire | None,
        key: str | None,
    ) -> int:
        ordinal = self.server.state.next_ordinal()
        record = RecordedRequest(
            ordinal=ordinal,
            method=self.command,
            path=path,
            query=redact_query(query),
            headers=redact_headers(headers),
            body=_decode_or_none(body),
            body_size=len(body),
            api=wire.api if wire else None,
            api_key_digest=key_digest(key) if key else None,
        )
        self.server.state.record(record)
        return ordinal

    def _refuse_method(self) -> None:
        url = urlsplit(self.path)
        wire, _ = route(url.path)
        if self._body_refusal():
            self.close_connection = True
        else:
            self._read_body()
        if wire is None:
            self._send_json(404, _not_found(url.path), {})
        else:
            self._send_error(wire, 405, f"Method {self.command} not allowed.", None, {})

    def _send_error(
        self, wire: Wire, status: int, message: str, code: str | None, extra: dict[str, str]
    ) -> None:
        self._send_json(status, wire.render_error(status, message, code), extra)

    def _send_json(self, status: int, body: Any, extra: Mapping[str, str]) -> None:
        self._send_raw(status, "application/json", msgspec.json.encode(body), extra)

    def _headers(self, status: int, content_type: str, extra: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("x-request-id", "req_fake")
        self.send_header("request-id", "req_fake")
        for name, value in extra.items():
            self.send_header(name, value)

    def _send_raw(
        self, status: int, content_type: str, payload: bytes, extra: Mapping[str, str]
    ) -> None:
        self._headers(status, content_type, extra)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_truncated(self, payload: bytes, extra: Mapping[str, str]) -> None:
        self._headers(200, "application/json", extra)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2])
        self.close_connection = True

    def _start_chunked(self, content_type: str, extra: Mapping[str, str]) -> None:
        self._headers(200, content_type, extra)
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()


class _Incoming(msgspec.Struct, frozen=True):
    """A received request, parsed just enough to serve it."""

    ordinal: int
    path_model: str | None
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    key: str | None


def _stream_error(
    wire: Wire, answer: Answer, fault: Fault | None, sent: int
) -> tuple[str | None, bytes]:
    status = fault.status if fault else 500
    return wire.stream_error(answer, status, default_message(status), sent)


def _decode(body: bytes) -> Any:
    if not body:
        raise WireError(400, "The request body is empty; expected a JSON object.")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise WireError(400, "We could not parse the JSON body of your request.") from None


def _decode_or_none(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        return None


def _not_found(path: str) -> dict[str, Any]:
    return _plain_error(f"Unknown path {path}; see docs/fake-providers.md for the endpoints.")


def _plain_error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}
