"""Agent layer: installed CLI agents (Claude Code, Codex, Gemini CLI) run as subprocesses.

`run_cli_agent` starts one non-interactive session and returns its `Transcript`; the parsers in
`_streams` read each CLI's documented JSON-lines output. The pipeline wraps this as a codergen
backend (`attractor.pipeline.agent_backends`), whose reply is recorded, so replay never starts a
CLI agent again.
"""

from attractor.agent.external._run import (
    KINDS,
    CliAgentMissing,
    CliAgentRequest,
    argv_for,
    find_executable,
    run_cli_agent,
    split_args,
)
from attractor.agent.external._streams import (
    ClaudeStream,
    CodexStream,
    GeminiStream,
    Step,
    StreamParser,
    Transcript,
    parser_for,
)

__all__ = [
    "KINDS",
    "ClaudeStream",
    "CliAgentMissing",
    "CliAgentRequest",
    "CodexStream",
    "GeminiStream",
    "Step",
    "StreamParser",
    "Transcript",
    "argv_for",
    "find_executable",
    "parser_for",
    "run_cli_agent",
    "split_args",
]
