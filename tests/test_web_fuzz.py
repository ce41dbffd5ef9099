"""Fuzz the JSON API described by /openapi.json with schemathesis, through the ASGI app, on a
real database: whatever the generated ids, queries, pages and uploads, no 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from formletter.web import create_app
from formletter.web._openapi import openapi_document


@pytest.fixture(scope="module")
def web_schema(web_db: Path) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(web_db))


def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation in the OpenAPI document ("GET /index.json"), with valid and invalid
    inputs; an operation whose only input is one path id has no invalid form to send."""
    doc = openapi_document()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            label = f"{method.upper()} {path}"
            out.append((label, GenerationMode.POSITIVE))
            params = op.get("parameters", [])
            if op.get("requestBody") or any(p["in"] != "path" for p in params):
                out.append((label, GenerationMode.NEGATIVE))
    return out


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_api_never_answers_5xx(
    web_schema: schemathesis.BaseSchema, label: str, mode: GenerationMode
) -> None:
    operation = web_schema.find_operation_by_label(label)
    assert operation is not None, label
    examples = 60 if mode is GenerationMode.POSITIVE else 30

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, (case.formatted_path, case.query, response.text[:300])
        case.validate_response(response, checks=[not_a_server_error])

    call()
