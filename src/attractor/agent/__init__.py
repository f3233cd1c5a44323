"""Agent layer: the coding agent loop of `specs/coding-agent-loop-spec.md`.

Sits between `pipeline` (which runs agents in stages) and `llm` (which it calls through effects).
Rule: the session core (reducer, decider, truncation, the apply_patch parser and planner) is pure;
only the execution environments and the patch applier touch the world.
"""
