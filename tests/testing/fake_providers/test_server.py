"""The server itself: recording and redaction, faults over raw HTTP, bounds, clean shutdown."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from attractor.testing.fake_providers import (
    FakeProviderServer,
    Fault,
    Match,
    NotLoopbackError,
    Scenario,
    Step,
    serve,
)

KEY = "sk-secret-value-123"
RESPONSES = {"model": "gpt-5", "input": "hi"}


def post(server: FakeProviderServer, body: dict[str, object], **options: object) -> httpx.Response:
    """POST a Responses request with a bearer key."""
    url = server.base_url("openai") + "/responses"
    return httpx.post(url, json=body, headers={"authorization": f"Bearer {KEY}"}, **options)  # type: ignore[arg-type]


def sse_data(response: httpx.Response) -> list[str]:
    """The data lines of an SSE body."""
    return [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]


def test_records_method_path_and_body(play):
    """Each request is recorded with its method, path, API and decoded body."""
    server = play(Step(text="x"))
    post(server, RESPONSES)
    (record,) = server.requests
    assert (record.method, record.path, record.api) == ("POST", "/v1/responses", "openai_responses")
    assert record.body == RESPONSES


def test_records_keep_only_a_key_digest(play):
    """Records tell which key was used without holding it."""
    server = play(Step(text="x"))
    post(server, RESPONSES)
    (record,) = server.requests
    assert record.has_api_key(KEY)
    assert not record.has_api_key("sk-other")
    assert record.headers["authorization"] == "<redacted>"
    assert KEY not in repr(record)


def test_query_keys_are_redacted(play):
    """A Gemini `?key=` secret is redacted in the record."""
    server = play(Step(text="x"))
    url = f"{server.url}/v1beta/models/g:generateContent?key={KEY}"
    httpx.post(url, json={"contents": [{"parts": [{"text": "hi"}]}]})
    (record,) = server.requests
    assert record.query == {"key": "<redacted>"}
    assert record.has_api_key(KEY)


def test_nothing_is_logged(play, capfd):
    """The server prints nothing, so keys in request lines never reach a log."""
    server = play(Step(text="x"))
    httpx.post(f"{server.url}/v1beta/models/g:generateContent?key={KEY}", json={})
    out, err = capfd.readouterr()
    assert KEY not in out + err
    assert err == ""


def test_missing_key_is_refused(play):
    """A request without a key gets the provider's 401."""
    server = play(Step(text="x"))
    response = httpx.post(server.base_url("openai") + "/responses", json=RESPONSES)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_oversized_body_is_refused_and_recorded(play):
    """A body above the limit gets 413 without being read, and is still recorded."""
    server = play()
    request = (
        f"POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Length: {64 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode())
        with sock.makefile("rb") as reader:
            status_line = reader.readline()
    assert status_line.startswith(b"HTTP/1.1 413")
    assert [(r.path, r.body) for r in server.requests] == [("/v1/responses", None)]


def test_unknown_path_is_404(play):
    """Unknown paths answer 404 with a hint to the docs."""
    server = play()
    response = httpx.post(f"{server.url}/v2/unknown", json={})
    assert response.status_code == 404
    assert "fake-providers.md" in response.json()["error"]["message"]


def test_get_on_a_known_route_is_405(play):
    """A GET on a POST endpoint answers 405."""
    server = play()
    assert httpx.get(server.base_url("openai") + "/responses").status_code == 405


def test_malformed_request_json_is_400(play):
    """A request body that is not JSON gets a 400 in the provider's shape."""
    server = play()
    url = server.base_url("openai") + "/responses"
    response = httpx.post(url, content=b"{not json", headers={"authorization": f"Bearer {KEY}"})
    assert response.status_code == 400
    assert "parse the JSON" in response.json()["error"]["message"]


def test_missing_model_is_400(play):
    """A Responses request without a model is refused."""
    server = play()
    assert post(server, {"input": "hi"}).status_code == 400


def test_steps_match_by_user_text_and_repeat(play):
    """A repeating matched step answers every matching request; others fall through."""
    server = play(
        Step(text="weather!", when=Match(user_text="weather"), repeat=True), Step(text="other")
    )
    texts = [
        post(server, {"model": "m", "input": text}).json()["output"][0]["content"][0]["text"]
        for text in ("weather?", "hello", "weather again")
    ]
    assert texts == ["weather!", "other", "weather!"]
    assert server.remaining_steps == 0


def test_extra_headers_are_sent(play):
    """Scripted headers (e.g. rate-limit info) are sent with the answer."""
    server = play(Step(text="x", headers={"x-ratelimit-remaining-requests": "42"}))
    assert post(server, RESPONSES).headers["x-ratelimit-remaining-requests"] == "42"


def test_malformed_json_fault_truncates_the_body(play):
    """The malformed_json fault sends a 200 with a truncated JSON body."""
    server = play(Step(text="x", fault=Fault("malformed_json")))
    response = post(server, RESPONSES)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_empty_body_fault(play):
    """The empty_body fault sends a 200 with no body."""
    server = play(Step(text="x", fault=Fault("empty_body")))
    response = post(server, RESPONSES)
    assert (response.status_code, response.content) == (200, b"")


def test_wrong_content_type_fault(play):
    """The wrong_content_type fault sends valid JSON labelled text/plain."""
    server = play(Step(text="x", fault=Fault("wrong_content_type")))
    response = post(server, RESPONSES)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.json()["object"] == "response"


def test_disconnect_fault_cuts_a_plain_response(play):
    """The disconnect fault closes the connection mid-body."""
    server = play(Step(text="x", fault=Fault("disconnect")))
    with pytest.raises(httpx.RemoteProtocolError):
        post(server, RESPONSES)


def test_malformed_json_fault_in_a_stream(play):
    """In a stream, the malformed_json fault corrupts exactly one event's data."""
    server = play(Step(text="a b", fault=Fault("malformed_json", after_events=2)))
    data = sse_data(post(server, {**RESPONSES, "stream": True}))
    broken = []
    for line in data:
        try:
            json.loads(line)
        except json.JSONDecodeError:
            broken.append(line)
    assert len(broken) == 1
    assert json.loads(data[-1])["type"] == "response.completed"


def test_empty_stream_fault(play):
    """The empty_body fault in a stream sends headers and no events."""
    server = play(Step(text="x", fault=Fault("empty_body")))
    response = post(server, {**RESPONSES, "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == ""


def test_slow_stream_spaces_events(play):
    """chunk_delay_ms delays every event, so the stream takes at least N times the delay."""
    server = play(Step(text="a b c d", chunk_delay_ms=15))
    started = time.perf_counter()
    events = sse_data(post(server, {**RESPONSES, "stream": True}))
    assert time.perf_counter() - started >= len(events) * 0.015


@pytest.mark.parametrize(
    ("path", "body", "marker"),
    [
        (
            "/v1/responses",
            {"model": "m", "input": "x", "stream": True},
            b"response.output_text.delta",
        ),
        ("/v1/chat/completions", {"model": "m", "messages": [], "stream": True}, b'"content":"'),
        (
            "/v1/messages",
            {"model": "m", "max_tokens": 1, "messages": [], "stream": True},
            b"text_delta",
        ),
        ("/v1beta/models/m:streamGenerateContent?alt=sse", {"contents": [{}]}, b'"text":"'),
    ],
)
def test_twenty_thousand_deltas(play, path, body, marker):
    """A 20,000-delta stream is served in full on every API (benchmark input)."""
    server = play(Step(text="x" * 20_000, deltas=20_000))
    headers = {
        "authorization": f"Bearer {KEY}",
        "anthropic-version": "2023-06-01",
        "x-goog-api-key": KEY,
    }
    response = httpx.post(server.url + path, json=body, headers=headers, timeout=30)
    lines = [
        line
        for line in response.content.split(b"\n")
        if line.startswith(b"data: ") and marker in line
    ]
    assert len(lines) >= 20_000


def test_refuses_non_loopback_hosts():
    """Binding a public address is refused before any socket is opened."""
    with pytest.raises(NotLoopbackError, match="loopback"):
        FakeProviderServer(host="0.0.0.0")


def test_close_ends_slow_streams_and_threads():
    """close() returns promptly during a slow stream and leaves no thread behind."""
    before = set(threading.enumerate())  # other tests' daemon threads may come and go meanwhile
    server = FakeProviderServer().start()
    server.play(Scenario(steps=(Step(text="a " * 50, chunk_delay_ms=200),)))
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            post(server, {**RESPONSES, "stream": True}, timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    client = threading.Thread(target=consume)
    client.start()
    time.sleep(0.3)
    started = time.perf_counter()
    server.close()
    client.join(5)
    assert time.perf_counter() - started < 2
    left = [t for t in threading.enumerate() if t not in before and t is not client]
    for t in left:
        t.join(1)
    assert [t.name for t in left if t.is_alive()] == []
    assert not client.is_alive()


def test_serve_announces_base_urls_and_stops():
    """serve() announces the listening URL and env exports, and stops on request."""
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, args=("127.0.0.1", 0, None), kwargs={"announce": lines.append, "stop": stop}
    )
    thread.start()
    deadline = time.monotonic() + 5
    while len(lines) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    assert lines[0].startswith("fake provider server listening on http://127.0.0.1:")
    assert any(
        line.startswith("export OPENAI_BASE_URL=http://127.0.0.1:") and line.endswith("/v1")
        for line in lines
    )
    assert not thread.is_alive()
