"""schemathesis against the live server's OpenAPI document at `/schema`: every operation, with
generated requests, gets no server error and answers as its schema says (status codes, content
types, bodies). The fast suite runs a bounded number of examples per operation; `-m slow` more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.server.kit import LINEAR_DOT, LiveServer, finished, live_server, start


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("schema")
    (root / "ok.dot").write_text(LINEAR_DOT)
    with live_server(root) as server:
        with server.client() as c:
            finished(c, start(c, source=LINEAR_DOT))  # one finished run for ids to point at
        yield server


# A schema-valid body can still be an invalid pipeline (DOT that does not parse, a graph that
# fails validation) or an answer that fits no option: those are 422 (RFC 9110), which the
# positive-data check must accept. A body over the size limit is refused with 413 before it
# is parsed, which the negative-data check must accept. Every other check runs as it is.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 422, 429]

[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> schemathesis.BaseSchema:
    config = schemathesis.config.SchemathesisConfig.from_str(CONFIG)
    return schemathesis.openapi.from_url(f"{live.url}/schema", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")
_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": list(HealthCheck),
}


@schema.parametrize()
@settings(max_examples=12, **_SETTINGS)  # type: ignore[arg-type]
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    """No server error and no schema violation for generated requests (bounded)."""
    case.call_and_validate()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=150, **_SETTINGS)  # type: ignore[arg-type]
def test_api_conforms_to_its_schema_thoroughly(case: schemathesis.Case) -> None:
    """The same with many more examples per operation."""
    case.call_and_validate()
