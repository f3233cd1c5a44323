"""Valid provider payloads that the bad-payload properties mutate (test support, no tests).

One success body and one stream for each adapter, using every part kind its parser handles
(thinking, text, tool calls, usage details): written out for Anthropic Messages and Gemini
generateContent, recorded from the fake server for the two OpenAI APIs.
"""

import json
from typing import Any

import httpx

from attractor.testing.fake_providers import (
    FakeProviderServer,
    Scenario,
    Step,
    Thinking,
    ToolCall,
    Usage,
)

ANTHROPIC_BODY: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "hm", "signature": "s"},
        {"type": "redacted_thinking", "data": "d"},
        {"type": "text", "text": "hi"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 5, "output_tokens": 3, "cache_read_input_tokens": 1},
}
ANTHROPIC_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("message_start", {"type": "message_start", "message": {**ANTHROPIC_BODY, "content": []}}),
    ("content_block_start", {"type": "content_block_start", "index": 0,
                             "content_block": {"type": "thinking", "thinking": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "thinking_delta", "thinking": "hm"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "signature_delta", "signature": "s"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1,
                             "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "text_delta", "text": "hi"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("content_block_start", {"type": "content_block_start", "index": 2,
                             "content_block": {"type": "tool_use", "id": "t1", "name": "f",
                                               "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": '{"a": 1}'}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 2}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                       "usage": {"output_tokens": 3}}),
    ("message_stop", {"type": "message_stop"}),
]  # fmt: skip
GEMINI_BODY: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "hm", "thought": True},
                    {"text": "hi", "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "f", "args": {"a": 1}}},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 5,
        "candidatesTokenCount": 3,
        "thoughtsTokenCount": 2,
        "cachedContentTokenCount": 1,
    },
    "modelVersion": "gemini-2.5-pro",
    "responseId": "r1",
}
GEMINI_CHUNKS: list[dict[str, Any]] = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "hm", "thought": True}]}}]},
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}}]},
    {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "f"}}]}}]},
    GEMINI_BODY,
]


def gemini_sse(chunks: list[Any]) -> bytes:
    """Gemini's SSE framing: one `data:` line per chunk, CRLF separated."""
    return "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks).encode()


# ---- OpenAI-family samples, recorded from the fake server ------------------------------------

CHAT_RICH = Step(
    text="The answer is 42.",
    thinking=(Thinking(text="think"),),
    tool_calls=(ToolCall("f", {"a": [1, 2]}), ToolCall("g", {})),
    usage=Usage(input_tokens=9, output_tokens=9, cache_read_tokens=4),
    repeat=True,
)
RESPONSES_RICH = Step(
    text="The answer is 42.",
    thinking=(Thinking(text="think", signature="sig"),),
    tool_calls=(ToolCall("f", {"a": [1, 2]}),),
    repeat=True,
)


def fetch_chat_samples(server: FakeProviderServer, model: str, key: str) -> dict[str, Any]:
    """A real `chat.completion` body and chunk stream of the fake server."""
    server.play(Scenario(steps=(CHAT_RICH,)))
    headers = {"authorization": f"Bearer {key}"}
    url = server.base_url("openai_chat") + "/chat/completions"
    request = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    streamed = {**request, "stream": True, "stream_options": {"include_usage": True}}
    with httpx.Client() as http:
        body = http.post(url, json=request, headers=headers).json()
        raw = http.post(url, json=streamed, headers=headers).text
    chunks = [block[len("data: ") :] for block in raw.strip().split("\n\n")]
    server.play()
    return {"body": body, "chunks": [json.loads(c) for c in chunks[:-1]]}


def fetch_responses_samples(server: FakeProviderServer, model: str, key: str) -> dict[str, Any]:
    """A real Responses JSON body and SSE stream of the fake server (thinking, text, a call)."""
    server.play(Scenario(steps=(RESPONSES_RICH,)))
    headers = {"authorization": f"Bearer {key}"}
    url = server.base_url("openai") + "/responses"
    with httpx.Client() as http:
        body = http.post(url, json={"model": model, "input": "hi"}, headers=headers).content
        raw = http.post(url, json={"model": model, "input": "hi", "stream": True}, headers=headers)
    events = [
        (block.split("\n")[0][len("event: ") :], json.loads(block.split("\n")[1][len("data: ") :]))
        for block in raw.text.strip().split("\n\n")
    ]
    server.play()
    return {"body": json.loads(body), "events": events}
