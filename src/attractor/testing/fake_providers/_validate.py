"""Optional checking of request bodies against the official SDKs' request types (shell layer).

Rule: the SDKs (dev-only dependencies) are imported only when a server is created with
`validate_requests=True`; a body they would not accept is refused with a 400 naming the
offending fields. OpenAI and Anthropic bodies are checked against the SDKs' `*CreateParams`
TypedDicts (unknown top-level parameters are refused; nested unknown keys are not, because
pydantic ignores extra TypedDict keys); Gemini bodies against `google.genai.types` models,
which refuse unknown fields at every level.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from attractor.testing.fake_providers._scenario import Api

Validator = Callable[[Any], list[str]]
"""Returns the problems found in a decoded request body (empty when it is valid)."""

_SHOWN_PROBLEMS = 3


class ValidationUnavailableError(RuntimeError):
    """Request validation was asked for but the official SDKs are not installed."""


def _summarise(error: Any) -> list[str]:
    # Union mismatches produce one error per union member; the deepest locations are the
    # ones that name the field the caller actually got wrong.
    details = sorted(error.errors(), key=lambda item: len(item["loc"]), reverse=True)
    return [
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        for item in details[:_SHOWN_PROBLEMS]
    ]


def _typed_dict_validator(non_streaming: Any, streaming: Any) -> Validator:
    import pydantic

    adapters = (pydantic.TypeAdapter(non_streaming), pydantic.TypeAdapter(streaming))
    known = set(streaming.__required_keys__) | set(streaming.__optional_keys__)

    def validate(body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["body: must be a JSON object"]
        problems = [f"{name}: unknown parameter" for name in sorted(set(body) - known)]
        adapter = adapters[1] if body.get("stream") is True else adapters[0]
        try:
            adapter.validate_python(body)
        except pydantic.ValidationError as error:
            problems.extend(_summarise(error))
        return problems

    return validate


def _gemini_validator() -> Validator:
    import pydantic
    from google.genai import types
    from pydantic.alias_generators import to_camel

    class GenerateContentBody(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(
            alias_generator=to_camel, populate_by_name=True, extra="forbid"
        )
        contents: list[types.Content]
        system_instruction: types.Content | None = None
        tools: list[types.Tool] | None = None
        tool_config: types.ToolConfig | None = None
        generation_config: types.GenerationConfig | None = None
        safety_settings: list[types.SafetySetting] | None = None
        cached_content: str | None = None
        labels: dict[str, str] | None = None

    def validate(body: Any) -> list[str]:
        try:
            GenerateContentBody.model_validate(body)
        except pydantic.ValidationError as error:
            return _summarise(error)
        return []

    return validate


@functools.cache
def load_validators() -> dict[Api, Validator]:
    """Build one validator per wire API from the installed official SDKs.

    Raises:
        ValidationUnavailableError: An SDK or pydantic is missing.
    """
    try:
        from anthropic.types import message_create_params
        from openai.types.chat import completion_create_params
        from openai.types.responses import response_create_params

        return {
            "openai_responses": _typed_dict_validator(
                response_create_params.ResponseCreateParamsNonStreaming,
                response_create_params.ResponseCreateParamsStreaming,
            ),
            "openai_chat": _typed_dict_validator(
                completion_create_params.CompletionCreateParamsNonStreaming,
                completion_create_params.CompletionCreateParamsStreaming,
            ),
            "anthropic_messages": _typed_dict_validator(
                message_create_params.MessageCreateParamsNonStreaming,
                message_create_params.MessageCreateParamsStreaming,
            ),
            "gemini_generate": _gemini_validator(),
        }
    except ImportError as exc:
        raise ValidationUnavailableError(
            f"validate_requests needs the official SDKs ({exc.name} is missing); "
            "install them with `pip install -e '.[dev]'`"
        ) from None
