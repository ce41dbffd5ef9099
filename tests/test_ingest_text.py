"""Decoding text files: encodings, BOMs, newlines, and the ways bytes are not text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.errors import BinaryInputError, DecodeError, EmptyInputError, InputError
from formletter.ingest import IngestOptions, read_file
from formletter.ingest._charset import implausibility
from formletter.ingest.text import decode_bytes, looks_binary, normalize_newlines

ENGLISH = "Dear Ms O’Brien,\n\nThank you — the café’s “garden” costs £5.\nYours sincerely,\n"
FRENCH = "Madame,\n\nJe vous écris au sujet de l’Église — c’est naïve, à mon avis.\n"
GERMAN = "Grüße aus München: die Straße ist schön.\n"
POLISH = "Zażółć gęślą jaźń. Dziękuję za list w sprawie szkoły.\n"
RUSSIAN = "Уважаемый депутат, спасибо за письмо о школе.\n"


@pytest.mark.parametrize(
    ("text", "encoding", "reported"),
    [
        (ENGLISH, "utf-8", "utf-8"),
        (ENGLISH, "utf-8-sig", "utf-8-sig"),
        (ENGLISH, "utf-16", "utf-16-le"),  # Python writes a little-endian BOM
        (ENGLISH, "cp1252", "cp1252"),
        (FRENCH, "cp1252", "cp1252"),
        (GERMAN, "cp1252", "cp1252"),
        (FRENCH, "utf-16", "utf-16-le"),
        (POLISH, "cp1250", "cp1250"),
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "utf-8", "utf-8"),
    ],
)
def test_encodings_come_out_right(text: str, encoding: str, reported: str) -> None:
    decoded = decode_bytes(text.encode(encoding))
    assert decoded.text == text
    assert decoded.encoding == reported


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF8, "utf-8"),
    ],
)
def test_bom_is_dropped(bom: bytes, codec: str) -> None:
    decoded = decode_bytes(bom + ENGLISH.encode(codec))
    assert decoded.text == ENGLISH
    assert not decoded.text.startswith("\ufeff")


def test_utf16_without_bom_is_recognised() -> None:
    assert decode_bytes(ENGLISH.encode("utf-16-le")).text == ENGLISH
    assert decode_bytes(ENGLISH.encode("utf-16-be")).text == ENGLISH


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a\r\nb\r\n", "a\nb\n"),
        (b"a\rb\r", "a\nb\n"),
        (b"a\r\n\r\nb", "a\n\nb"),
        (b"  indented\ttab  \n\n\n", "  indented\ttab  \n\n\n"),  # otherwise verbatim
    ],
)
def test_newlines_normalised_everything_else_verbatim(raw: bytes, expected: str) -> None:
    assert decode_bytes(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "error", "words"),
    [
        (b"", EmptyInputError, "empty file"),
        (b"\x00\x01\x02\x03binary\x00\xff" * 20, BinaryInputError, "NUL"),
        (bytes(range(1, 32)) * 10 + b"abc", BinaryInputError, "control bytes"),
        (b"Dear Sir \x81\x8d\x8f\x90\x9d\x81\x8d\x8f\x90\x9d text", DecodeError, "undecodable"),
        (codecs.BOM_UTF8 + b"Dear \xff\xfe Sir", DecodeError, "undecodable"),
    ],
)
def test_bytes_that_are_not_text(raw: bytes, error: type[InputError], words: str) -> None:
    with pytest.raises(error) as info:
        decode_bytes(raw)
    assert words in info.value.reason


def test_looks_binary_accepts_text_and_bom_utf16() -> None:
    assert looks_binary(ENGLISH.encode()) is None
    assert looks_binary(ENGLISH.encode("utf-16")) is None
    assert looks_binary(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00") is not None


def test_implausibility_prefers_the_right_reading() -> None:
    right = "naïve café"
    wrong = "naďve café"  # the same bytes read as cp1250
    assert implausibility(right) < implausibility(wrong)
    assert implausibility("plain ascii") == 0.0
    cyrillic_as_latin = RUSSIAN.encode("cp1251").decode("cp1252", errors="replace")
    assert implausibility(RUSSIAN) < implausibility(cyrillic_as_latin)


# Text as people type it: no control characters other than tab and newlines.
_TYPED = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Co", "Cn"), whitelist_characters="\t\n\r"
    ),
    max_size=300,
)


@given(_TYPED)
def test_utf8_round_trip(text: str) -> None:
    if not text:
        return
    assert decode_bytes(text.encode("utf-8")).text == normalize_newlines(text)


@given(_TYPED, st.sampled_from(["utf-8-sig", "utf-16", "utf-32"]))
def test_bom_round_trip(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    if not text:
        return
    assert decode_bytes(data).text == normalize_newlines(text)


@given(st.binary(max_size=400))
def test_decoding_never_crashes(data: bytes) -> None:
    try:
        decoded = decode_bytes(data)
    except InputError as exc:
        assert exc.reason
    else:
        assert "\r" not in decoded.text


# ----------------------------------------------------------------- text files via read_file


def test_text_file_letter(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_bytes(("\ufeff" + ENGLISH.replace("\n", "\r\n")).encode("utf-8"))
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    assert letter.text == ENGLISH
    assert letter.source == str(path)
    assert dict(letter.meta) == {"format": "text", "encoding": "utf-8-sig"}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n\t\n", "only whitespace"),
        ("nul.txt", b"abc\x00def\x00" * 50, "binary file"),
        ("mojibake.txt", b"Dear Sir \x81\x8d\x8f\x90\x9d\x81\x8d\x8f\x90\x9d text", "undecodable"),
    ],
)
def test_bad_text_files_are_failures(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert len(result.failures) == 1
    assert result.failures[0].source == str(path)
    assert reason in result.failures[0].reason


def test_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    result = read_file(path, IngestOptions(max_bytes=1000))
    assert result.letters == ()
    assert "too large" in result.failures[0].reason
    assert result.size == 5000
    assert len(result.sha256) == 64


def test_unknown_extension_sniffed_as_text(tmp_path: Path) -> None:
    path = tmp_path / "letter.letter"
    path.write_text(FRENCH, encoding="cp1252")
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == FRENCH
