"""Benchmark: the LLM adapters against the official SDKs, over loopback HTTP (not a timed test).

Standalone script; prints figures measured in one run:

1. Stream parsing: the same 20,000-delta SSE stream, served by the fake provider server, read to
   the end by our adapter (`Client.stream`, events normalised and the final Response built)
   and by the provider's official SDK (sync and async clients; the faster one is compared).
   Target (issue 5): our time <= SDK time / 1.5.
2. Per-call overhead: `Client.complete()` vs a bare `httpx.AsyncClient.post` of the same body
   to the same server, mean over N calls. Target: < 1 ms.

One function per provider (`PARSE_BENCHES`, `OVERHEAD_BENCHES`); add rows for more providers by
adding functions to those tables.

    python bench/bench_llm.py [--deltas 20000] [--runs 5] [--calls 500] [--only openai,...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import anthropic
import httpx
import openai
from google import genai
from google.genai import types as genai_types

from attractor.llm import Client, Message, ProviderConfig, Request, Secret
from attractor.llm.adapters import load_adapter
from attractor.testing.fake_providers import FakeProviderServer, Match, Scenario, Step

UrlKey = Literal["openai", "openai_chat", "anthropic", "gemini"]
KEY = "sk-bench"
MODEL = "bench-model"


@dataclass(frozen=True)
class Row:
    """One measured comparison: our seconds vs theirs, and what each side was."""

    name: str
    ours: float
    theirs: float
    theirs_label: str


def _client(server: FakeProviderServer, provider: str, url_key: UrlKey) -> Client:
    config = ProviderConfig(api_key=Secret(KEY), base_url=server.base_url(url_key))
    return Client({provider: load_adapter(provider)}, configs={provider: config})


def _best(samples: list[float]) -> float:
    return statistics.median(samples)


async def _time_ours(client: Client, request: Request, runs: int, expect: int) -> float:
    samples = []
    for _ in range(runs + 1):  # the first run warms the connection pool up
        start = time.perf_counter()
        deltas = 0
        final = None
        async for event in client.stream(request):
            if event.type == "text_delta":
                deltas += 1
            final = event
        samples.append(time.perf_counter() - start)
        if deltas != expect or final is None or final.type != "finish":
            raise SystemExit(f"our stream delivered {deltas} deltas, ended {final}")
    return _best(samples[1:])


def _time_sync(make_stream: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        for _event in make_stream():
            pass
        samples.append(time.perf_counter() - start)
    return _best(samples[1:])


async def _time_async(make_stream: Callable[[], Awaitable[Any]], runs: int) -> float:
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        async for _event in await make_stream():
            pass
        samples.append(time.perf_counter() - start)
    return _best(samples[1:])


async def parse_openai_responses(server: FakeProviderServer, runs: int, deltas: int) -> Row:
    """OpenAI Responses: our adapter vs `client.responses.create(stream=True)`."""
    client = _client(server, "openai", "openai")
    request = Request(model=MODEL, messages=(Message.user("go"),), provider="openai")
    ours = await _time_ours(client, request, runs, deltas)
    await client.close()
    sync = openai.OpenAI(base_url=server.base_url("openai"), api_key=KEY, max_retries=0)
    sdk_sync = _time_sync(lambda: sync.responses.create(model=MODEL, input="go", stream=True), runs)
    sync.close()
    aio = openai.AsyncOpenAI(base_url=server.base_url("openai"), api_key=KEY, max_retries=0)
    sdk_async = await _time_async(
        lambda: aio.responses.create(model=MODEL, input="go", stream=True), runs
    )
    await aio.close()
    label, theirs = min((("sync", sdk_sync), ("async", sdk_async)), key=lambda t: t[1])
    return Row("openai responses", ours, theirs, f"openai {openai.__version__} ({label})")


async def parse_openai_chat(server: FakeProviderServer, runs: int, deltas: int) -> Row:
    """OpenAI-compatible Chat Completions: our adapter vs `chat.completions.create(stream=True)`."""
    client = _client(server, "openai_compatible", "openai_chat")
    request = Request(model=MODEL, messages=(Message.user("go"),), provider="openai_compatible")
    ours = await _time_ours(client, request, runs, deltas)
    await client.close()
    messages: Any = [{"role": "user", "content": "go"}]
    options: Any = {"include_usage": True}
    sync = openai.OpenAI(base_url=server.base_url("openai_chat"), api_key=KEY, max_retries=0)
    sdk_sync = _time_sync(
        lambda: sync.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options=options
        ),
        runs,
    )
    sync.close()
    aio = openai.AsyncOpenAI(base_url=server.base_url("openai_chat"), api_key=KEY, max_retries=0)
    sdk_async = await _time_async(
        lambda: aio.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options=options
        ),
        runs,
    )
    await aio.close()
    label, theirs = min((("sync", sdk_sync), ("async", sdk_async)), key=lambda t: t[1])
    return Row("openai chat", ours, theirs, f"openai {openai.__version__} ({label})")


async def _overhead(
    server: FakeProviderServer,
    provider: str,
    url_key: UrlKey,
    path: str,
    body: dict[str, Any],
    calls: int,
    headers: dict[str, str] | None = None,
) -> Row:
    """Mean seconds per call: Client.complete() vs a bare httpx POST of the same body."""
    client = _client(server, provider, url_key)
    request = Request(model=MODEL, messages=(Message.user("hi"),), provider=provider)
    url = server.base_url(url_key) + path
    headers = headers or {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient() as http:
        for _ in range(20):  # warm both pools up
            await client.complete(request)
            (await http.post(url, json=body, headers=headers)).json()
        ours: list[float] = []
        bare: list[float] = []
        for i in range(calls):  # interleaved, alternating who goes first, so noise hits both
            for side in (0, 1) if i % 2 else (1, 0):
                start = time.perf_counter()
                if side == 0:
                    await client.complete(request)
                else:
                    answer = await http.post(url, json=body, headers=headers)
                    answer.raise_for_status()
                    answer.json()
                (ours if side == 0 else bare).append(time.perf_counter() - start)
    await client.close()
    paired = statistics.median(o - b for o, b in zip(ours, bare, strict=True))
    label = f"bare httpx POST (median paired diff {paired * 1000:+.3f} ms)"
    return Row(f"{provider} complete()", statistics.fmean(ours), statistics.fmean(bare), label)


async def overhead_openai_responses(server: FakeProviderServer, calls: int) -> Row:
    """Per-call overhead of the Responses adapter."""
    body = {"model": MODEL, "input": [{"type": "message", "role": "user", "content": "hi"}]}
    return await _overhead(server, "openai", "openai", "/responses", body, calls)


async def overhead_openai_chat(server: FakeProviderServer, calls: int) -> Row:
    """Per-call overhead of the Chat Completions adapter."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    return await _overhead(
        server, "openai_compatible", "openai_chat", "/chat/completions", body, calls
    )


async def parse_anthropic(server: FakeProviderServer, runs: int, deltas: int) -> Row:
    """Anthropic Messages: our adapter vs `client.messages.create(stream=True)` (raw events)."""
    client = _client(server, "anthropic", "anthropic")
    request = Request(model=MODEL, messages=(Message.user("go"),), provider="anthropic")
    ours = await _time_ours(client, request, runs, deltas)
    await client.close()
    messages: Any = [{"role": "user", "content": "go"}]
    base = server.base_url("anthropic")
    sync = anthropic.Anthropic(base_url=base, api_key=KEY, max_retries=0)
    sdk_sync = _time_sync(
        lambda: sync.messages.create(model=MODEL, max_tokens=4096, messages=messages, stream=True),
        runs,
    )
    sync.close()
    aio = anthropic.AsyncAnthropic(base_url=base, api_key=KEY, max_retries=0)
    sdk_async = await _time_async(
        lambda: aio.messages.create(model=MODEL, max_tokens=4096, messages=messages, stream=True),
        runs,
    )
    await aio.close()
    label, theirs = min((("sync", sdk_sync), ("async", sdk_async)), key=lambda t: t[1])
    return Row("anthropic messages", ours, theirs, f"anthropic {anthropic.__version__} ({label})")


async def parse_gemini(server: FakeProviderServer, runs: int, deltas: int) -> Row:
    """Gemini: our adapter vs google-genai `models.generate_content_stream` (SSE)."""
    client = _client(server, "gemini", "gemini")
    request = Request(model=MODEL, messages=(Message.user("go"),), provider="gemini")
    ours = await _time_ours(client, request, runs, deltas)
    await client.close()
    options = genai_types.HttpOptions(base_url=server.base_url("gemini"))
    sdk = genai.Client(api_key=KEY, http_options=options)
    sdk_sync = _time_sync(
        lambda: sdk.models.generate_content_stream(model=MODEL, contents="go"), runs
    )
    sdk_async = await _time_async(
        lambda: sdk.aio.models.generate_content_stream(model=MODEL, contents="go"), runs
    )
    sdk.close()
    label, theirs = min((("sync", sdk_sync), ("async", sdk_async)), key=lambda t: t[1])
    return Row("gemini generate", ours, theirs, f"google-genai {genai.__version__} ({label})")


async def overhead_anthropic(server: FakeProviderServer, calls: int) -> Row:
    """Per-call overhead of the Anthropic Messages adapter."""
    body = {"model": MODEL, "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    return await _overhead(server, "anthropic", "anthropic", "/v1/messages", body, calls, headers)


async def overhead_gemini(server: FakeProviderServer, calls: int) -> Row:
    """Per-call overhead of the Gemini generateContent adapter."""
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    path = f"/v1beta/models/{MODEL}:generateContent"
    return await _overhead(server, "gemini", "gemini", path, body, calls, {"x-goog-api-key": KEY})


PARSE_BENCHES: dict[str, Callable[[FakeProviderServer, int, int], Awaitable[Row]]] = {
    "openai": parse_openai_responses,
    "openai_compatible": parse_openai_chat,
    "anthropic": parse_anthropic,
    "gemini": parse_gemini,
}
OVERHEAD_BENCHES: dict[str, Callable[[FakeProviderServer, int], Awaitable[Row]]] = {
    "openai": overhead_openai_responses,
    "openai_compatible": overhead_openai_chat,
    "anthropic": overhead_anthropic,
    "gemini": overhead_gemini,
}


def _scenario(deltas: int) -> Scenario:
    text = " ".join(f"w{i}" for i in range(deltas))
    stream = Step(text=text, deltas=deltas, repeat=True)
    return Scenario(steps=(Step(text="ok", when=Match(user_text="hi"), repeat=True), stream))


async def main(args: argparse.Namespace) -> None:
    """Run the selected benchmarks and print one table per kind."""
    chosen = args.only.split(",") if args.only else list(PARSE_BENCHES)
    with FakeProviderServer(_scenario(args.deltas)) as server:
        print(f"stream parsing: {args.deltas:,} deltas, median of {args.runs} runs")
        for name in chosen:
            if name in PARSE_BENCHES:
                row = await PARSE_BENCHES[name](server, args.runs, args.deltas)
                ratio = row.theirs / row.ours
                verdict = "meets" if ratio >= 1.5 else "MISSES"
                print(
                    f"  {row.name:<20} ours {row.ours * 1000:8.1f} ms   {row.theirs_label} "
                    f"{row.theirs * 1000:8.1f} ms   sdk/ours {ratio:5.2f}x "
                    f"({verdict} the >= 1.5x target)"
                )
        print(f"per-call overhead: mean of {args.calls} calls (interleaved)")
        for name in chosen:
            if name in OVERHEAD_BENCHES:
                row = await OVERHEAD_BENCHES[name](server, args.calls)
                extra = (row.ours - row.theirs) * 1000
                verdict = "meets" if extra < 1.0 else "MISSES"
                print(
                    f"  {row.name:<30} {row.ours * 1000:6.3f} ms   {row.theirs_label} "
                    f"{row.theirs * 1000:6.3f} ms   overhead {extra:+6.3f} ms "
                    f"({verdict} the < 1 ms target)"
                )


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--only", default="", help="comma-separated providers")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(_args()))
