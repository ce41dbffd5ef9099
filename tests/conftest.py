"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from _web_corpus import build_web_db


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analysed web corpus (see ``_web_corpus``), built once per session."""
    return build_web_db(tmp_path_factory.getbasetemp() / "web-corpus")
