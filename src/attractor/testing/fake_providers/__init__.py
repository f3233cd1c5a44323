"""A loopback fake of the OpenAI, Anthropic and Gemini HTTP APIs, driven by scripted scenarios.

Layer: `attractor.testing` (ships with the package; used by tests, benchmarks and
`attractor fake-llm serve`). Rule: each endpoint speaks its provider's native wire format —
request checks, JSON bodies, SSE events, error shapes — faithfully enough that the official
SDKs parse it; scenarios stay provider-neutral.

Example:
    >>> from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step
    >>> with FakeProviderServer(Scenario(steps=(Step(text="hi"),))) as server:  # doctest: +SKIP
    ...     server.base_url("anthropic")
"""

from attractor.testing.fake_providers._load import ScenarioError, load_scenario, parse_scenario
from attractor.testing.fake_providers._process import FakeProviderProcess
from attractor.testing.fake_providers._recording import RecordedRequest, key_digest
from attractor.testing.fake_providers._scenario import (
    ECHO,
    Error,
    Fault,
    Match,
    Scenario,
    Step,
    Thinking,
    ToolCall,
    Usage,
)
from attractor.testing.fake_providers._server import (
    FakeProviderServer,
    NotLoopbackError,
    serve,
)
from attractor.testing.fake_providers._validate import ValidationUnavailableError

__all__ = [
    "ECHO",
    "Error",
    "FakeProviderProcess",
    "FakeProviderServer",
    "Fault",
    "Match",
    "NotLoopbackError",
    "RecordedRequest",
    "Scenario",
    "ScenarioError",
    "Step",
    "Thinking",
    "ToolCall",
    "Usage",
    "ValidationUnavailableError",
    "key_digest",
    "load_scenario",
    "parse_scenario",
    "serve",
]
