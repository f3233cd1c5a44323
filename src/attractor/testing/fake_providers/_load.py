"""Loading scenario files (shell layer: reads a file; decoding itself is msgspec).

Rule: a bad scenario file gives `ScenarioError` naming the file, the JSON path and a hint —
never a raw msgspec or OS traceback.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from attractor.testing.fake_providers._scenario import Scenario

_DECODER = msgspec.json.Decoder(Scenario)

_HINT = "see docs/fake-providers.md for the scenario format"


class ScenarioError(ValueError):
    """A scenario file could not be read or does not follow the scenario format.

    Attributes:
        location: The file (and JSON path when known) at fault.
        hint: What to do about it.
    """

    def __init__(self, message: str, location: str, hint: str = _HINT) -> None:
        super().__init__(f"{location}: {message} (hint: {hint})")
        self.location = location
        self.hint = hint


def parse_scenario(data: bytes | str, source: str = "<scenario>") -> Scenario:
    """Decode a scenario from JSON text.

    Args:
        data: The JSON document.
        source: Name used in error locations (usually the file path).

    Raises:
        ScenarioError: The document is not valid JSON or not a valid scenario.
    """
    try:
        return _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise ScenarioError(str(exc), source) from None
    except msgspec.DecodeError as exc:
        raise ScenarioError(f"not valid JSON: {exc}", source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and decode a scenario file.

    Raises:
        ScenarioError: The file cannot be read or is not a valid scenario.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"cannot read scenario file: {exc.strerror}", str(path), "check the path"
        ) from None
    return parse_scenario(data, str(path))
