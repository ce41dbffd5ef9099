"""Shared reader plumbing: tidying extracted text, failure reasons, sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.errors import EmptyInputError, MissingDependencyError
from formletter.ingest._common import Output, describe_exception, human_bytes, tidy_extracted


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("\n\n  Dear Sir,  \r\n\r\n\r\n\r\nThanks.\t\n\n", "  Dear Sir,\n\nThanks."),
        ("a\x00b\x07c\x0cd", "abc\n\nd"),
        ("a\rb", "a\nb"),
        ("   ", ""),
    ],
)
def test_tidy_extracted(raw: str, tidy: str) -> None:
    assert tidy_extracted(raw) == tidy


@given(st.text(max_size=200))
def test_tidy_is_idempotent(text: str) -> None:
    once = tidy_extracted(text)
    assert tidy_extracted(once) == once
    assert "\n\n\n" not in once and "\r" not in once


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (2000, "2000 B"),
        (10 * 1024, "10.0 KiB"),
        (50 * 2**20, "50.0 MiB"),
        (2**31, "2.0 GiB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (EmptyInputError("empty file"), "empty file"),
        (
            MissingDependencyError("reading PDF", "formats", "pypdf"),
            "reading PDF needs the 'pypdf' package: pip install 'formletter[formats]'",
        ),
        (ValueError("bad\n  thing"), "could not read PDF: ValueError: bad thing"),
        (KeyError(), "could not read PDF: KeyError"),
        (MemoryError(), "could not read PDF: out of memory"),
        (ValueError("x" * 500), "could not read PDF: ValueError: " + "x" * 197 + "..."),
    ],
)
def test_describe_exception(exc: BaseException, reason: str) -> None:
    assert describe_exception(exc, "PDF") == reason


def test_blank_letter_becomes_a_failure() -> None:
    out = Output()
    out.letter(" \n ", "a.txt")
    out.letter("Hello", "b.txt", (("format", "text"),))
    assert [f.reason for f in out.failures] == ["no text found"]
    assert [letter.source for letter in out.letters] == ["b.txt"]
