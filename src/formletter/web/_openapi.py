"""The OpenAPI 3 document describing the web app's JSON endpoints.

Every HTML page also answers as JSON at the same path with ``.json`` appended (or with
``Accept: application/json``); this document lists the ``.json`` forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from formletter import __version__
from formletter.store import MAX_QUERY_CHARS, MEMBER_ORDERS
from formletter.store._search import DATE_PATTERN
from formletter.web._data import MAX_PAGE

__all__ = ["openapi_document"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_INT = {"type": "integer"}
_NUM = {"type": "number"}
_STR = {"type": "string"}
_OBJ = {"type": "object"}
_BOOL = {"type": "boolean"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_FAMILY = _obj(
    {
        "family_id": _STR,
        "size": _INT,
        "senders": _INT,
        "parties": {"type": "object", "additionalProperties": _INT},
    },
    {"date_min": _nullable(_STR), "date_max": _nullable(_STR), "first_line": _nullable(_STR)},
)
_PIECE = _obj({"kind": _STR, "text": _STR})
_ROW = _obj({"template": _array(_PIECE), "letter": _array(_PIECE), "moved": _BOOL})
_DIFF = _obj(
    {
        "family_id": _STR,
        "similarity": _NUM,
        "coverage": _NUM,
        "unique_text": _STR,
        "ops": _array(
            _obj(
                {
                    "op": _STR,
                    "t_start": _INT,
                    "t_end": _INT,
                    "l_start": _INT,
                    "l_end": _INT,
                    "text": _STR,
                }
            )
        ),
    }
)
_SEARCH_HIT = _obj(
    {"letter_id": _STR, "source": _STR, "highlights": _array(_array({})), "snippet": _STR},
    {"family_id": _nullable(_STR), "sender_name": _nullable(_STR), "date": _nullable(_STR)},
)
_ERROR = _obj({"error": _STR, "status": _INT})

_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _ERROR,
    "Overview": _obj(
        {
            "stats": _obj(
                {
                    "letters": _INT,
                    "families": _INT,
                    "senders": _INT,
                    "failures": _INT,
                    "form_letters": _INT,
                    "form_letter_share": _NUM,
                }
            ),
            "families": _array({"$ref": "#/components/schemas/FamilySummary"}),
            "families_total": _INT,
            "page": _INT,
            "pages": _INT,
            "failures": _array(_OBJ),
        }
    ),
    "FamilySummary": _FAMILY,
    "FamilyPage": _obj(
        {
            "family": {"$ref": "#/components/schemas/FamilySummary"},
            "template": _nullable(_obj({"text": _STR, "segments": _array(_OBJ)})),
            "members": _array(_obj({"letter_id": _STR})),
            "personalised": _array(_obj({"letter_id": _STR})),
            "profile": _obj({"months": _OBJ, "senders": _array(_OBJ)}),
            "order": _STR,
            "page": _INT,
            "pages": _INT,
        }
    ),
    "LetterPage": _obj(
        {
            "letter": _obj(
                {"letter_id": _STR, "source": _STR, "text": _STR, "parts": _array(_OBJ)}
            ),
            "family": _nullable({"$ref": "#/components/schemas/FamilySummary"}),
            "diff": _nullable({"$ref": "#/components/schemas/Diff"}),
            "own_share": _nullable(_NUM),
            "rows": _array({"$ref": "#/components/schemas/Row"}),
        }
    ),
    "Diff": _DIFF,
    "Row": _ROW,
    "SendersPage": _obj(
        {
            "senders": _array(_obj({"sender_key": _STR, "letters": _INT, "sampled": _INT})),
            "senders_total": _INT,
            "sample": _INT,
            "sampled_any": _BOOL,
            "page": _INT,
            "pages": _INT,
        }
    ),
    "SenderPage": _obj(
        {
            "sender": _obj({"sender_key": _STR, "letters": _INT, "sampled": _INT}),
            "letters": _array(_obj({"letter_id": _STR})),
            "letters_found": _INT,
            "letters_complete": _BOOL,
            "sampled": _INT,
            "families": _array(_obj({"family_id": _STR, "letters": _INT})),
            "page": _INT,
            "pages": _INT,
        }
    ),
    "SearchPage": _obj(
        {
            "q": _STR,
            "filters": _OBJ,
            "results": _array({"$ref": "#/components/schemas/SearchHit"}),
            "total": _INT,
            "total_exact": _BOOL,
            "order": {"type": "string", "enum": ["relevance", "newest"]},
            "newest": _nullable(_INT),
            "note": _STR,
            "page": _INT,
            "pages": _INT,
        }
    ),
    "SearchHit": _SEARCH_HIT,
    "MatchResult": _obj(
        {
            "letter_id": _STR,
            "family_id": _nullable(_STR),
            "score": _NUM,
            "family": _nullable({"$ref": "#/components/schemas/FamilySummary"}),
            "sender": _nullable(_OBJ),
            "anatomy": _obj({"body_start": _INT, "body_end": _INT, "parts": _array(_OBJ)}),
            "diff": _nullable({"$ref": "#/components/schemas/Diff"}),
            "own_share": _nullable(_NUM),
            "rows": _array({"$ref": "#/components/schemas/Row"}),
        }
    ),
}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


_PAGE = {
    "name": "page",
    "in": "query",
    "required": False,
    "description": "1-based page number",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
}
_DATE = {"type": "string", "pattern": DATE_PATTERN}


def _path_param(name: str, description: str, example: str | None) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }
    if example:
        param["example"] = example
    return param


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _get(summary: str, ref: str, params: list[dict[str, Any]], *, found: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": _json(ref, summary),
        "400": _error("a parameter cannot be used"),
    }
    if found:
        responses["404"] = _error("no such id")
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


def openapi_document(examples: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0 description of every JSON endpoint; ``examples`` gives real ids
    (``family_id``, ``letter_id``, ``key``) from the database as parameter examples."""
    ex = dict(examples or {})
    text_body = {
        "type": "object",
        "properties": {"text": {"type": "string", "description": "the letter, pasted"}},
    }
    upload_body = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "the letter, pasted"},
            "file": {
                "type": "string",
                "format": "binary",
                "description": "a .txt, .eml, .html or .md file of at most 2 MB",
            },
        },
    }
    paths: dict[str, Any] = {
        "/index.json": _get("Counts and families ranked by size", "Overview", [_PAGE], found=False),
        "/families/{family_id}.json": _get(
            "One family: template, members, timeline and breakdown",
            "FamilyPage",
            [
                _path_param("family_id", "family id", ex.get("family_id")),
                _query("order", "member order", {"type": "string", "enum": list(MEMBER_ORDERS)}),
                _PAGE,
            ],
            found=True,
        ),
        "/letters/{letter_id}.json": _get(
            "One letter: stored row, anatomy, diff and aligned rows",
            "LetterPage",
            [_path_param("letter_id", "letter id", ex.get("letter_id"))],
            found=True,
        ),
        "/senders.json": _get("Senders by number of letters", "SendersPage", [_PAGE], found=False),
        "/senders/{key}.json": _get(
            "One sender: letters, families and own words",
            "SenderPage",
            [
                _path_param("key", "register id, or the name read from the letters", ex.get("key")),
                _PAGE,
            ],
            found=True,
        ),
        "/search.json": _get(
            "Full-text search with filters",
            "SearchPage",
            [
                _query("q", "FTS5 query", {"type": "string", "maxLength": MAX_QUERY_CHARS}),
                _query("family", "family id"),
                _query("party", "party (exact, any case)"),
                _query("sender", "part of the sender's name"),
                _query("date_from", "earliest date, YYYY[-MM[-DD]]", _DATE),
                _query("date_to", "latest date, YYYY[-MM[-DD]]", _DATE),
                _PAGE,
            ],
            found=False,
        ),
        "/match.json": {
            "post": {
                "summary": "Which family a letter belongs to, and its diff (nothing is stored)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": text_body},
                        "application/x-www-form-urlencoded": {"schema": text_body},
                        "multipart/form-data": {"schema": upload_body},
                    },
                },
                "responses": {
                    "200": _json("MatchResult", "the match (family_id null when none fits)"),
                    "400": _error("no letter given, or it cannot be parsed"),
                    "413": _error("the upload is larger than 2 MB"),
                    "415": _error("not a text file"),
                    "422": _error("the file could not be read"),
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "formletter",
            "version": __version__,
            "description": "Read-only JSON views of a formletter database.",
        },
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }
