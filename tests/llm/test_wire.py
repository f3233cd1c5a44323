"""Tests for the pure wire helpers: SSE decoding, HTTP error bodies, rate-limit headers."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from attractor.llm import errors as e
from attractor.llm.types import RateLimitInfo
from attractor.llm.wire import (
    SseDecoder,
    SseMessage,
    data_uri,
    decode_json_object,
    error_from_http,
    rate_limit_from_headers,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _decode(text: str) -> list[SseMessage]:
    decoder = SseDecoder()
    out = [m for line in text.split("\n") if (m := decoder.feed(line)) is not None]
    last = decoder.flush()
    return [*out, last] if last else out


def test_sse_event_and_multiline_data() -> None:
    """event: names the message and data: lines join with newlines."""
    msgs = _decode("event: delta\ndata: a\ndata: b\n\n")
    assert msgs == [SseMessage("delta", "a\nb")]


def test_sse_comments_retry_and_id() -> None:
    """Comments are ignored; retry and id are kept."""
    msgs = _decode(": keepalive\nid: 7\nretry: 1500\ndata: {}\n\n")
    assert msgs == [SseMessage("message", "{}", "7", 1500)]


def test_sse_garbage_lines_are_ignored() -> None:
    """Unknown field lines do not break decoding."""
    msgs = _decode("garbage here\nfoo: bar\ndata: x\n\n")
    assert msgs == [SseMessage("message", "x")]


def test_sse_crlf_and_missing_final_blank_line() -> None:
    """CRLF line ends are handled and an unterminated final message is flushed."""
    msgs = _decode("data: one\r\n\r\ndata: two")
    assert [m.data for m in msgs] == ["one", "two"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=20)))
def test_sse_decoder_never_raises(lines: list[str]) -> None:
    """Arbitrary lines never make the decoder raise."""
    decoder = SseDecoder()
    for line in lines:
        decoder.feed(line)
    decoder.flush()


def test_error_from_http_openai_shape() -> None:
    """OpenAI-shaped error bodies give message and code."""
    body = (
        b'{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}'
    )
    err = error_from_http("openai", 401, {}, body, NOW)
    assert isinstance(err, e.AuthenticationError)
    assert (err.message, err.error_code) == ("bad key", "invalid_api_key")


def test_error_from_http_retry_after_header() -> None:
    """Retry-After (and retry-after-ms) headers land on the error."""
    err = error_from_http("anthropic", 429, {"Retry-After": "3"}, b"{}", NOW)
    assert isinstance(err, e.RateLimitError)
    assert err.retry_after == 3.0
    err2 = error_from_http("openai", 429, {"retry-after-ms": "250"}, b"{}", NOW)
    assert isinstance(err2, e.RateLimitError)
    assert err2.retry_after == 0.25


def test_error_from_http_html_proxy_page() -> None:
    """An HTML error page gives a ServerError naming the page title, not a decode crash."""
    body = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    err = error_from_http("openai", 502, {"content-type": "text/html"}, body, NOW)
    assert isinstance(err, e.ServerError)
    assert "502 Bad Gateway" in err.message


def test_error_from_http_empty_body() -> None:
    """An empty body still gives a typed error with a clear message."""
    err = error_from_http("gemini", 500, {}, b"", NOW)
    assert isinstance(err, e.ServerError)
    assert err.message == "empty response body"


def test_error_from_http_gemini_grpc_status() -> None:
    """Gemini's gRPC status is used when the HTTP status is not in the table."""
    body = b'{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}'
    err = error_from_http("gemini", 503, {}, body, NOW)
    assert isinstance(err, e.ServerError)
    assert err.error_code == "UNAVAILABLE"


@given(st.binary(max_size=200), st.integers(min_value=400, max_value=599))
def test_error_from_http_is_total(body: bytes, status: int) -> None:
    """Any body and error status give an SDKError, never an exception escaping."""
    assert isinstance(error_from_http("p", status, {}, body, NOW), e.SDKError)


def test_rate_limit_headers_openai() -> None:
    """x-ratelimit-* headers fill RateLimitInfo, durations become reset_at."""
    headers = {
        "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-tokens": "900",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-reset-requests": "1m30s",
    }
    info = rate_limit_from_headers(headers, NOW)
    assert info == RateLimitInfo(9, 10, 900, 1000, NOW + timedelta(seconds=90))


def test_rate_limit_absent_is_none() -> None:
    """No rate-limit headers gives None."""
    assert rate_limit_from_headers({"content-type": "x"}, NOW) is None


def test_decode_json_object_rejects_non_objects() -> None:
    """Only JSON objects decode; arrays, junk and bad UTF-8 give None."""
    assert decode_json_object(b'{"a":1}') == {"a": 1}
    assert decode_json_object(b"[1]") is None
    assert decode_json_object(b"\xff\xfe") is None


def test_data_uri() -> None:
    """data_uri base64-encodes with the media type."""
    assert data_uri("image/png", b"hi") == "data:image/png;base64,aGk="
