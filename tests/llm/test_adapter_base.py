"""Tests for the adapters' shared HTTP/SSE plumbing over real loopback HTTP."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from attractor.llm import errors as e
from attractor.llm.adapters._base import (
    json_body,
    load_image_bytes,
    post_json,
    rate_limit_of,
    stream_sse,
)
from attractor.llm.runtime import AdapterTimeout, CallContext, ProviderConfig, Secret
from attractor.llm.types import ImageData

pytestmark = pytest.mark.anyio

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        try:
            await handler(head + body, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def _reply(status: str, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: bytes, writer: asyncio.StreamWriter) -> None:
        lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", "connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return handler


def _sse(chunks: list[bytes], *, delay: float = 0.0, cut: bool = False) -> Handler:
    async def handler(request: bytes, writer: asyncio.StreamWriter) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        )
        writer.write((head + "connection: close\r\n\r\n").encode())
        for chunk in chunks:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
            if delay:
                await asyncio.sleep(delay)
        if not cut:
            writer.write(b"0\r\n\r\n")
        await writer.drain()

    return handler


async def _ctx(http: httpx.AsyncClient, **timeouts: float) -> CallContext:
    config = ProviderConfig(
        api_key=Secret("k"),
        headers=(("x-extra", "1"),),
        timeout=AdapterTimeout(**timeouts),
    )
    return CallContext("rt", "prov", None, config, http)


@asynccontextmanager
async def _with_server(handler: Handler) -> AsyncIterator[tuple[str, CallContext]]:
    server, url = await _serve(handler)
    try:
        async with httpx.AsyncClient() as http:
            yield url, await _ctx(http, connect=1.0, request=0.3, stream_read=0.2)
    finally:
        server.close()
        await server.wait_closed()


async def _run(handler: Handler, call: Callable[[str, CallContext], Awaitable[object]]) -> object:
    async with _with_server(handler) as (url, ctx):
        return await call(url, ctx)


async def test_post_json_sends_body_and_headers() -> None:
    """post_json sends JSON with the context's extra headers and returns the 2xx response."""
    seen: list[bytes] = []

    async def handler(request: bytes, writer: asyncio.StreamWriter) -> None:
        seen.append(request)
        await _reply("200 OK", b'{"ok": true}', {"x-ratelimit-remaining-requests": "5"})(
            request, writer
        )

    async def call(url: str, ctx: CallContext) -> object:
        response = await post_json(ctx, url + "/v1/x", {"a": 1}, headers={"x-api-key": "k"})
        assert json_body(ctx, response) == {"ok": True}
        info = rate_limit_of(response)
        assert info is not None
        return info.requests_remaining

    assert await _run(handler, call) == 5
    lowered = seen[0].lower()
    assert b"x-extra: 1" in lowered
    assert b"x-api-key: k" in lowered
    assert seen[0].endswith(b'{"a":1}')


async def test_post_json_maps_429_with_retry_after() -> None:
    """A 429 becomes RateLimitError with retry_after from the header."""
    body = b'{"error": {"message": "slow down", "type": "rate_limit_error"}}'
    handler = _reply("429 Too Many Requests", body, {"retry-after": "7"})
    with pytest.raises(e.RateLimitError) as info:
        await _run(handler, lambda url, ctx: post_json(ctx, url, {}))
    assert (info.value.retry_after, info.value.provider, info.value.status_code) == (
        7.0,
        "prov",
        429,
    )


async def test_post_json_html_error_page() -> None:
    """An HTML 502 from a proxy becomes a ServerError quoting the page title."""
    html = b"<html><title>502 Bad Gateway</title></html>"
    handler = _reply("502 Bad Gateway", html, {"content-type": "text/html"})
    with pytest.raises(e.ServerError, match="502 Bad Gateway"):
        await _run(handler, lambda url, ctx: post_json(ctx, url, {}))


async def test_json_body_rejects_non_json_success() -> None:
    """A 200 whose body is not a JSON object gives a typed ServerError, not a decode crash."""

    async def call(url: str, ctx: CallContext) -> object:
        return json_body(ctx, await post_json(ctx, url, {}))

    with pytest.raises(e.ServerError, match="expected a JSON object"):
        await _run(_reply("200 OK", b"not json", {"content-type": "text/plain"}), call)


async def test_request_timeout() -> None:
    """A server slower than the request timeout gives RequestTimeoutError."""

    async def slow(request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(1.0)

    with pytest.raises(e.RequestTimeoutError):
        await _run(slow, lambda url, ctx: post_json(ctx, url, {}))


async def test_connection_refused_is_network_error() -> None:
    """Nothing listening gives a retryable NetworkError naming provider and runtime."""
    server, url = await _serve(_reply("200 OK", b"{}"))
    server.close()
    await server.wait_closed()
    async with httpx.AsyncClient() as http:
        ctx = await _ctx(http)
        with pytest.raises(e.NetworkError, match="prov \\(runtime 'rt'\\)") as info:
            await post_json(ctx, url, {})
    assert info.value.retryable


async def _collect(url: str, ctx: CallContext) -> list[tuple[str, str]]:
    return [(m.event, m.data) async for m in stream_sse(ctx, url, {"stream": True})]


async def test_stream_sse_yields_messages_and_skips_garbage() -> None:
    """SSE messages are decoded across chunk boundaries; comments and junk are skipped."""
    chunks = [b"event: a\nda", b"ta: 1\n\n: ping\n", b"junk line\ndata: 2\n\n", b"data: [DONE]\n\n"]
    got = await _run(_sse(chunks), _collect)
    assert got == [("a", "1"), ("message", "2"), ("message", "[DONE]")]


async def test_stream_sse_error_status_before_data() -> None:
    """An error status on a stream raises the typed error before any message."""
    body = b'{"error": {"message": "bad key"}}'
    with pytest.raises(e.AuthenticationError, match="bad key"):
        await _run(_reply("401 Unauthorized", body), _collect)


async def test_stream_sse_stall_is_timeout() -> None:
    """No data within stream_read seconds gives RequestTimeoutError."""
    with pytest.raises(e.RequestTimeoutError, match="stream read"):
        await _run(_sse([b"data: 1\n\n", b"data: 2\n\n"], delay=0.6), _collect)


async def test_stream_sse_disconnect_is_stream_error() -> None:
    """A connection dropped mid-stream gives StreamError."""
    with pytest.raises(e.StreamError, match="mid-stream"):
        await _run(_sse([b"data: 1\n\n"], cut=True), _collect)


def test_load_image_from_local_path(tmp_path: Path) -> None:
    """Local image paths are read and typed by extension."""
    path = tmp_path / "shot.jpg"
    path.write_bytes(b"\xff\xd8jpeg")
    assert load_image_bytes(ImageData(url=str(path)), "p") == ("image/jpeg", b"\xff\xd8jpeg")
    assert load_image_bytes(ImageData(url="https://x/y.png"), "p") is None
    assert load_image_bytes(ImageData(data=b"raw"), "p") == ("image/png", b"raw")


def test_missing_local_image_is_invalid_request(tmp_path: Path) -> None:
    """A missing local image gives InvalidRequestError naming the path."""
    missing = str(tmp_path / "nope.png")
    with pytest.raises(e.InvalidRequestError, match=r"nope\.png"):
        load_image_bytes(ImageData(url=missing), "p")


async def test_slow_drip_response_hits_request_deadline() -> None:
    """A body trickling in slower than the whole-request timeout gives RequestTimeoutError."""

    async def drip(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 40\r\nconnection: close\r\n\r\n")
        for _ in range(40):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    with pytest.raises(e.RequestTimeoutError, match=r"longer than 0\.3s"):
        await _run(drip, lambda url, ctx: post_json(ctx, url, {}))
