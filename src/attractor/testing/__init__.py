"""Testing: fakes that ship with the package — scripted machines, backends and provider servers.

Like Temporal's `testing/` and pydantic-ai's `TestModel`, these are real implementations with
predictable behaviour, usable by users' own tests.
"""
