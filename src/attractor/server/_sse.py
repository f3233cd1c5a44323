"""Server layer (async shell): a run's events as Server-Sent Events, read from its durable log.

Rule: the SSE stream is the log, line for line. Each log entry goes out as `event: entry`,
`id: <seq>`, `data: <the log line>` (the envelope and the event, exactly as stored), so a client
that reconnects with `Last-Event-ID: N` (or `?after=N`) gets entry N+1 next: nothing lost,
nothing repeated. Streamed LLM text that is not in the log goes out as `event: delta` (no id:
it cannot be resumed, only watched). A comment line every `heartbeat_s` keeps proxies and
clients from timing out; after `run.finished` the stream sends `event: end` and closes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import msgspec
from litestar.response import ServerSentEventMessage

from attractor.server._feed import RunFeed

_BATCH = 256
_END = ServerSentEventMessage(event="end", data="{}", sep="\n")
_delta_encoder = msgspec.json.Encoder()


def _encode(message: ServerSentEventMessage) -> bytes:
    return message.encode()


async def sse_events(
    feed: RunFeed,
    after: int,
    *,
    heartbeat_s: float,
    poll_s: float,
    deltas: bool = True,
    closing: object | None = None,
) -> AsyncIterator[bytes]:
    """The SSE stream of `feed` after seq `after`, then live, until `run.finished`. Each chunk
    holds every message ready at that moment: one socket write per wake-up, not per event."""
    queue = feed.subscribe_deltas() if deltas else None
    feed.watchers += 1
    seq, last_sent = after, time.monotonic()
    try:
        yield _encode(ServerSentEventMessage(data=None, retry=1000, comment="attractor", sep="\n"))
        while not getattr(closing, "is_set", lambda: False)():
            chunk: list[bytes] = []
            while queue:
                data = _delta_encoder.encode(queue.popleft()).decode()
                chunk.append(_encode(ServerSentEventMessage(event="delta", data=data, sep="\n")))
            for line in feed.index.lines(seq + 1, seq + _BATCH):
                seq += 1
                entry = ServerSentEventMessage(id=seq, event="entry", data=line.decode(), sep="\n")
                chunk.append(_encode(entry))
            if chunk:
                yield b"".join(chunk)
                last_sent = time.monotonic()
                continue
            if feed.index.finished_seq and seq >= feed.index.finished_seq:
                yield _encode(_END)
                return
            await feed.wait(heartbeat_s if feed.driven else poll_s)
            if time.monotonic() - last_sent >= heartbeat_s:
                yield _encode(ServerSentEventMessage(data=None, comment="heartbeat", sep="\n"))
                last_sent = time.monotonic()
    finally:
        feed.watchers -= 1
        if queue is not None:
            feed.unsubscribe_deltas(queue)
