"""attractor.llm: the unified LLM client (spec: unified-llm-spec.md).

Layer: llm, above effects and events, below agent and pipeline. Rule: data types and
translation helpers are pure; only the client, the adapters' transport and the high-level
functions are async shell code.
"""
