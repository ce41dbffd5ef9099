"""Fuzz the JSON API described by /openapi.json with schemathesis, through the ASGI app, on a
real database: whatever the generated ids, queries, pages and uploads, no 5xx."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import open_store
from formletter.synth import generate
from formletter.web import create_app
from formletter.web._openapi import openapi_document

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
XSS = '<script>window.__xss=1</script> <a href="javascript:alert(1)">x</a> <!-- c -->'


def build_web_db(base: Path) -> Path:
    """Seeds + an XSS copy of seed 000 + 120 synthetic letters, analysed (built once per run;
    the same corpus as tests/test_web.py, which shares the folder)."""
    db = base / "web.db"
    if (base / "built").exists():
        return db
    inp = base / "in"
    inp.mkdir(parents=True, exist_ok=True)
    for p in sorted(SEEDS.glob("*.txt")):
        shutil.copy(p, inp / p.name)
    seed0 = next(iter(sorted(SEEDS.glob("000_*.txt"))))
    text = seed0.read_text(encoding="utf-8").replace("Let me start", f"{XSS} Let me start", 1)
    (inp / "xss.txt").write_text(text, encoding="utf-8")
    generate(base / "synth", letters=120, seed=3)
    with open_store(db) as store:
        analyze(store, [inp, base / "synth" / "letters"], AnalyzeOptions())
    (base / "built").touch()
    return db


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_web_db(tmp_path_factory.getbasetemp() / "web-corpus")


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
