"""LLM layer (effect boundary): an LLM call as a `CallLlm` effect, recorded linearly.

Rule: a conversation is never written to the log twice. A request is recorded in a compact form
— the request's digest, the chain digest of the prefix the log already holds, the new messages
only, and the other parameters — and a `MessageBook` folded from the log rebuilds the full
request from it. The book learns *only* from log entries (`observe`), never from a performer, so
live runs, resumes and replays compact every request the same way and replay stays
byte-identical. Responses are recorded whole (usage included), the provider's `raw` body aside.
Secrets never enter a request, and error messages are scrubbed of the client's keys.

Compact request (the `request` of `CallLlm`)::

    {"digest": <sha256/32 of the full Request>, "messages_digest": <chain digest of all messages>,
     "prefix_digest": <chain digest of the known prefix, "" for none>, "prefix_length": k,
     "new_messages": [<messages after the prefix>], "model": ..., <other Request fields>}

Chain digests: `d0 = ""`, `d(i) = sha256(d(i-1) + "|" + canonical JSON of message i)[:32]`;
the request digest is `sha256(messages_digest + "|" + canonical JSON of the other fields)[:32]`.
A tool list the log already holds is recorded as its digest (a string) in place of the list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from attractor.effects import (
    CallLlm,
    EffectCompleted,
    EffectError,
    EffectFailed,
    EffectRequested,
    ErrorKind,
    LlmResponded,
)
from attractor.events import Event
from attractor.llm.client import Client
from attractor.llm.errors import (
    AbortError,
    AccessDeniedError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    RequestTimeoutError,
    SDKError,
    UnsupportedContentError,
    UnsupportedToolChoiceError,
)
from attractor.llm.retry import RetryPolicy, retry
from attractor.llm.types import Message, Request, Response, from_json_object, to_json_object

__all__ = [
    "LlmRecordError",
    "MessageBook",
    "call_llm",
    "effect_error",
    "llm_performer",
    "record_response",
    "request_digest_of",
    "response_of",
]

_COMPACT_KEYS = ("digest", "messages_digest", "prefix_digest", "prefix_length", "new_messages")
_canonical = msgspec.json.Encoder(order="deterministic")


class _Compact(msgspec.Struct, frozen=True):
    """The compact fields of a recorded request (the other keys are Request fields)."""

    digest: str
    messages_digest: str
    prefix_digest: str
    prefix_length: int
    new_messages: tuple[Message, ...]


class LlmRecordError(ValueError):
    """A recorded LLM request cannot be rebuilt (unknown prefix, digest mismatch, bad shape)."""


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()[:32]


def chain_digest(parent: str, message: Message) -> str:
    """The chain digest of a conversation prefix ending in `message`."""
    return _sha(parent.encode() + b"|" + _canonical.encode(message))


def _params_of(request: Request) -> dict[str, Any]:
    params = to_json_object(msgspec.structs.replace(request, messages=()))
    params.pop("messages", None)
    return params


def _digest(messages_digest: str, params: dict[str, Any]) -> str:
    return _sha(messages_digest.encode() + b"|" + _canonical.encode(params))


def request_digest_of(request: Request) -> str:
    """The digest of a full request: its messages' chain digest and its other parameters."""
    digest = ""
    for message in request.messages:
        digest = chain_digest(digest, message)
    return _digest(digest, _params_of(request))


class MessageBook:
    """Conversation prefixes the log holds, content-addressed by chain digest.

    Append-only: a digest always names the same messages, so one book may be shared by the code
    that builds requests and the performer that sends them. It is a fold of the log — feed it
    every entry's event (`observe`) before deciding or performing.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, tuple[str, Message]] = {}  # digest -> (parent digest, message)
        self._pending: dict[str, str] = {}  # effect id -> messages digest of its request
        self._tools: dict[str, Any] = {}  # digest -> tool definitions (JSON)

    @property
    def size(self) -> int:
        """How many (prefix digest, message) nodes the book holds."""
        return len(self._nodes)

    def knows(self, digest: str) -> bool:
        """Whether `digest` names a known prefix ("" is the empty prefix)."""
        return not digest or digest in self._nodes

    def remember(self, messages: Sequence[Message], parent: str = "") -> str:
        """Add `messages` after the prefix `parent`; returns the chain digest of the whole."""
        digest = parent
        for message in messages:
            child = chain_digest(digest, message)
            self._nodes.setdefault(child, (digest, message))
            digest = child
        return digest

    def messages(self, digest: str) -> tuple[Message, ...]:
        """The messages of a known prefix; `LlmRecordError` when it is unknown."""
        out: list[Message] = []
        while digest:
            node = self._nodes.get(digest)
            if node is None:
                raise LlmRecordError(f"unknown conversation prefix {digest}")
            digest, message = node
            out.append(message)
        return tuple(reversed(out))

    def compact(self, request: Request) -> dict[str, Any]:
        """The compact form of `request` against what the book knows."""
        prefix, length, digest = "", 0, ""
        for i, message in enumerate(request.messages, start=1):
            digest = chain_digest(digest, message)
            if digest in self._nodes:
                prefix, length = digest, i
        params = _params_of(request)
        full_digest = _digest(digest, params)
        tools = params.get("tools")
        if tools is not None and _sha(_canonical.encode(tools)) in self._tools:
            params["tools"] = _sha(_canonical.encode(tools))  # recorded before: by digest
        return {
            "digest": full_digest,
            "messages_digest": digest,
            "prefix_digest": prefix,
            "prefix_length": length,
            "new_messages": [to_json_object(m) for m in request.messages[length:]],
            **params,
        }

    def _tools_of(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with a tools digest replaced by the tool list it names."""
        tools = params.get("tools")
        if not isinstance(tools, str):
            return params
        known = self._tools.get(tools)
        if known is None:
            raise LlmRecordError(f"the tool list {tools} is not in the log folded so far")
        return {**params, "tools": known}

    def expand(self, data: dict[str, Any]) -> Request:
        """The full `Request` a compact form stands for, checked against its digests."""
        compact, request = self._checked(data)
        messages = self.messages(compact.prefix_digest) + compact.new_messages
        return msgspec.structs.replace(request, messages=messages)

    def _checked(self, data: dict[str, Any]) -> tuple[_Compact, Request]:
        """The compact fields and the request without messages, digests verified."""
        try:
            compact = msgspec.convert(data, _Compact)
            params = self._tools_of({k: v for k, v in data.items() if k not in _COMPACT_KEYS})
            request = from_json_object({**params, "messages": []}, Request)
        except (msgspec.ValidationError, ConfigurationError) as exc:
            raise LlmRecordError(f"recorded LLM request is malformed: {exc}") from None
        if not self.knows(compact.prefix_digest):
            raise LlmRecordError(
                f"the conversation prefix {compact.prefix_digest} is not in the log folded so "
                "far; feed MessageBook.observe every entry before performing"
            )
        digest = compact.prefix_digest
        for message in compact.new_messages:  # the prefix is known: hash the new messages only
            digest = chain_digest(digest, message)
        if digest != compact.messages_digest or _digest(digest, _params_of(request)) != (
            compact.digest
        ):
            raise LlmRecordError(f"rebuilt request does not match its digest {compact.digest}")
        return compact, request

    def observe(self, event: Event) -> None:
        """Fold one logged event: requests teach their messages, responses their answer."""
        match event:
            case EffectRequested(effect_id=eid, request=CallLlm(request=data)):
                compact, request = self._checked(data)
                self._pending[eid] = self.remember(compact.new_messages, compact.prefix_digest)
                if request.tools is not None:
                    tools = _params_of(request)["tools"]
                    self._tools.setdefault(_sha(_canonical.encode(tools)), tools)
            case EffectCompleted(effect_id=eid, result=LlmResponded(response=body)):
                parent = self._pending.pop(eid, None)
                if parent is not None:
                    self.remember((response_of(body).message,), parent)
            case EffectFailed(effect_id=eid):
                self._pending.pop(eid, None)
            case _:
                pass


def call_llm(request: Request, book: MessageBook | None = None) -> CallLlm:
    """The `CallLlm` effect for `request`, compacted against `book` (none: all messages new)."""
    compact = (book or MessageBook()).compact(request)
    return CallLlm(provider=request.provider or "", model=request.model, request=compact)


def record_response(response: Response, *, keep_raw: bool = False) -> LlmResponded:
    """The recorded result: the unified response with usage (the provider's raw body dropped)."""
    if not keep_raw:
        usage = msgspec.structs.replace(response.usage, raw=None)
        response = msgspec.structs.replace(response, raw=None, usage=usage)
    return LlmResponded(response=to_json_object(response))


def response_of(body: dict[str, Any]) -> Response:
    """The `Response` a recorded `LlmResponded.response` holds."""
    return from_json_object(body, Response)


_KINDS: tuple[tuple[type[SDKError], ErrorKind], ...] = (
    (RequestTimeoutError, "timeout"),
    (AbortError, "cancelled"),
    (AuthenticationError, "permission"),
    (AccessDeniedError, "permission"),
    (NotFoundError, "not_found"),
    (UnsupportedContentError, "unsupported"),
    (UnsupportedToolChoiceError, "unsupported"),
    (InvalidRequestError, "invalid"),
    (ConfigurationError, "invalid"),
)


def effect_error(exc: SDKError, secrets: Sequence[str] = ()) -> EffectError:
    """A typed LLM error as effect data: kind, retryable flag, a message naming provider/status."""
    kind: ErrorKind = next((k for cls, k in _KINDS if isinstance(exc, cls)), "error")
    message = exc.message or type(exc).__name__
    if isinstance(exc, ProviderError):
        status = f" {exc.status_code}" if exc.status_code is not None else ""
        message = f"{exc.provider}{status}: {type(exc).__name__}: {message}"
    else:
        message = f"{type(exc).__name__}: {message}"
    for secret in secrets:
        if secret:
            message = message.replace(secret, "<redacted>")
    return EffectError(kind=kind, message=message, retryable=exc.retryable)


def _client_secrets(client: Client) -> list[str]:
    runtime = client.runtime
    configs = (runtime.config_for(p) for p in runtime.provider_names)
    return [c.api_key.reveal() for c in configs if c is not None and c.api_key is not None]


def llm_performer(
    client: Client,
    book: MessageBook | None = None,
    *,
    retry_policy: RetryPolicy | None = None,
    keep_raw: bool = False,
) -> Callable[[CallLlm], Awaitable[LlmResponded | EffectError]]:
    """The performer for `LiveInterpreter(performers={CallLlm: llm_performer(client, book)})`.

    Rebuilds the request from `book` (which must have observed the log), sends it with
    `client.complete` (retried with `retry_policy` when given) and records the response. Typed
    LLM errors and unrebuildable requests become `EffectError`s; nothing is raised.
    """
    the_book = book or MessageBook()

    async def perform(effect: CallLlm) -> LlmResponded | EffectError:
        try:
            request = the_book.expand(effect.request)
        except LlmRecordError as exc:
            return EffectError(kind="invalid", message=str(exc))
        try:
            if retry_policy is None:
                response = await client.complete(request)
            else:
                response = await retry(lambda: client.complete(request), retry_policy)
        except SDKError as exc:
            return effect_error(exc, _client_secrets(client))
        return record_response(response, keep_raw=keep_raw)

    return perform
