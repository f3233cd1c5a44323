"""High-level streaming (spec §4.4, §4.6, §5.9): `stream`, `stream_object`, StreamResult.

Layer: llm (shell). Rule: a stream is the same step loop as `generate`, seen event by event:
each step's stream is retried only before data arrives, every event read is bounded by the
abort signal and the step/total timeouts, intermediate FINISH events become STEP_FINISH (after
the tools ran), and the final FINISH carries the final step's response. A provider ERROR event
is passed on and ends the stream; `response()` then raises that error.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

import msgspec

from attractor.llm.abort import Deadline, guarded
from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.errors import SDKError, StreamError, error_info
from attractor.llm.generate import (
    GenerateOptions,
    GenerateResult,
    StepResult,
    continue_with,
    ensure_no_loop,
    make_options,
    object_format,
    parse_object,
    result_of,
    run_tools,
    step_of,
    wants_tools,
)
from attractor.llm.partial_json import PartialJsonError, parse_partial
from attractor.llm.retry import retry_stream
from attractor.llm.runtime import current_runtime
from attractor.llm.types import Request, Response, StreamEvent, StreamEventType

__all__ = ["ObjectStreamResult", "StreamResult", "stream", "stream_object", "stream_sync"]

_ET = StreamEventType
_END: Any = object()


class StreamResult:
    """Async iterator over the events of a (multi-step) streamed generation (spec §4.4)."""

    def __init__(self, options: GenerateOptions) -> None:
        # Bind the ambient runtime now: the stream may be iterated from another task (ADR 0021).
        runtime = options.runtime or current_runtime()
        self._opts = dataclasses.replace(options, runtime=runtime)
        self._acc = StreamAccumulator(provider=options.provider or "", model=options.model)
        self._steps: list[StepResult] = []
        self._final: Response | None = None
        self._error: SDKError | None = None
        self._events = self._run()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events

    @property
    def options(self) -> GenerateOptions:
        """The normalised options this stream runs with."""
        return self._opts

    @property
    def steps(self) -> tuple[StepResult, ...]:
        """The steps finished so far."""
        return tuple(self._steps)

    @property
    def partial_response(self) -> Response | None:
        """The current step's response as accumulated so far."""
        return self._final or self._acc.partial_response

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Only the text deltas, across all steps."""
        return self._texts()

    async def _texts(self) -> AsyncIterator[str]:
        async for event in self._events:
            if event.type == _ET.TEXT_DELTA and event.delta:
                yield event.delta

    async def _drain(self) -> None:
        async for _ in self._events:
            pass

    async def response(self) -> Response:
        """The final Response, consuming the rest of the stream first if needed."""
        await self._drain()
        if self._error is not None:
            raise self._error
        if self._final is None:
            raise StreamError("the stream ended without a final response")
        return self._final

    async def result(self) -> GenerateResult:
        """All steps and total usage, like `generate()` would return."""
        await self.response()
        return result_of(self._steps)

    async def aclose(self) -> None:
        """Stop the stream early and release its connection."""
        await self._events.aclose()

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        opts = self._opts
        deadline = Deadline(opts.timeout)
        conversation = list(opts.messages)
        provider = opts.provider or opts.the_client.default_provider or ""
        for round_num in range(opts.max_tool_rounds + 1):
            self._acc = StreamAccumulator(provider=provider, model=opts.model)
            finish: StreamEvent | None = None
            async for event in self._step(opts.request(conversation), deadline):
                if event.type == _ET.FINISH:
                    finish = event
                else:
                    yield event
                if event.type == _ET.ERROR:
                    return
            if finish is None:
                yield self._fail(StreamError("the provider stream ended without a FINISH event"))
                return
            response = self._acc.response()
            execute = wants_tools(opts, response, round_num)
            results = await run_tools(opts, response, conversation, deadline) if execute else []
            self._steps.append(step_of(response, results))
            if not execute or (opts.stop_when is not None and opts.stop_when(self._steps)):
                self._final = response
                yield finish
                return
            yield _step_finish(response, results)
            continue_with(conversation, response, results)

    async def _step(self, request: Request, deadline: Deadline) -> AsyncIterator[StreamEvent]:
        opts = self._opts
        client = opts.the_client
        budget, label = deadline.step_budget()
        loop = asyncio.get_running_loop()
        end = loop.time() + budget if budget is not None else None
        source = retry_stream(
            lambda: client.stream(request, runtime=opts.runtime), opts.retry_policy
        )
        async with aclosing(source):
            while True:
                left = None if end is None else max(end - loop.time(), 0.0)
                try:
                    work = anext(source, _END)
                    event = await guarded(work, signal=opts.abort_signal, timeout=left, label=label)
                except SDKError as exc:
                    self._error = exc
                    raise
                if event is _END:
                    return
                self._acc.process(event)
                if event.type == _ET.ERROR and event.error is not None:
                    self._error = event.error.to_exception()
                yield event

    def _fail(self, exc: SDKError) -> StreamEvent:
        self._error = exc
        return StreamEvent(type=_ET.ERROR, error=error_info(exc))


def _step_finish(response: Response, results: list[Any]) -> StreamEvent:
    return StreamEvent(
        type=_ET.STEP_FINISH,
        finish_reason=response.finish_reason,
        usage=response.usage,
        response=response,
        raw={"tool_results": msgspec.to_builtins(results)},
    )


def stream(model: str, prompt: str | None = None, **kwargs: Any) -> StreamResult:
    """Stream a generation, running active tools between steps (spec §4.4).

    Takes the same arguments as `generate()`. Iterate the result with `async for`; afterwards
    `await result.response()` gives the final Response.
    """
    return StreamResult(make_options(model, prompt, **kwargs))


class ObjectStreamResult:
    """Async iterator of growing partial objects; `await object()` gives the validated one."""

    def __init__(self, inner: StreamResult, schema: dict[str, Any]) -> None:
        self.inner = inner
        self.schema = schema
        self._partials = self._run()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._partials

    async def _run(self) -> AsyncGenerator[Any, None]:
        buffer: list[str] = []
        last: Any = None
        async for event in self.inner:
            if event.type != _ET.TEXT_DELTA or not event.delta:
                continue
            buffer.append(event.delta)
            try:
                value = parse_partial("".join(buffer))
            except PartialJsonError:
                continue
            if value is not None and value != last:
                last = value
                yield value

    async def object(self) -> Any:
        """The complete object, parsed and validated (NoObjectGeneratedError otherwise)."""
        async for _ in self._partials:
            pass
        response = await self.inner.response()
        return parse_object(response.text, self.schema)


def stream_object(
    model: str,
    prompt: str | None = None,
    *,
    schema: dict[str, Any],
    schema_name: str | None = None,
    **kwargs: Any,
) -> ObjectStreamResult:
    """Stream structured output as incrementally parsed partial objects (spec §4.6)."""
    kwargs["response_format"] = object_format(schema, schema_name)
    return ObjectStreamResult(stream(model, prompt, **kwargs), schema)


def stream_sync(model: str, prompt: str | None = None, **kwargs: Any) -> Iterator[StreamEvent]:
    """Blocking iteration over `stream()` events on a private event loop."""
    ensure_no_loop("stream_sync")
    result = stream(model, prompt, **kwargs)
    events = result.__aiter__()
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(events))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(result.aclose())
        loop.run_until_complete(result.options.the_client.release_connections())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
