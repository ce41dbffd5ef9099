"""HTML: the visible text only."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.ingest import IngestOptions, read_file
from formletter.ingest.markup import decode_html, html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Dear   Sir,</p><p>Thank\nyou.</p>", "Dear Sir,\n\nThank you."),
        ("<p>line one<br>line <b>two</b></p>", "line one\nline two"),
        ("<p>line one<br>\n  line two</p>", "line one\nline two"),
        ("<head><title>T</title><style>p{}</style></head><body>Hi</body>", "Hi"),
        ("<script>var x = '<p>no</p>';</script><p>yes</p>", "yes"),
        ("<div hidden>secret<div>nested</div>still</div><p>shown</p>", "shown"),
        ("<p style='display: none'>gone</p><p style='color:red'>kept</p>", "kept"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a\tb\nc\td"),
        ("<pre>  keep\n    this</pre>", "  keep\n    this"),
        ("Fish &amp; chips &pound;5 &#8212; &lt;ok&gt;", "Fish & chips £5 — <ok>"),
        ("<p>unclosed<p>second", "unclosed\n\nsecond"),
        ("<noscript>enable js</noscript><template><p>t</p></template>x", "x"),
    ],
)
def test_visible_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=200))
def test_never_crashes_and_no_tags_leak_from_escaped_text(text: str) -> None:
    import html as html_module

    out = html_to_text("<p>" + html_module.escape(text) + "</p>")
    assert out.split() == text.split() or not text.strip()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('<meta charset="windows-1252"><p>caf\xe9</p>'.encode("latin-1"), "café"),
        ("<meta charset=utf-8><p>café</p>".encode(), "café"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\xe9'.encode(
                "latin-1"
            ),
            "é",
        ),
        ("\ufeff<p>café</p>".encode("utf-16-le"), "café"),
    ],
)
def test_decode_html(data: bytes, text: str) -> None:
    assert html_to_text(decode_html(data)) == text


def test_html_file(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(
        "<!doctype html><html><head><title>My MP replies</title></head>"
        "<body><nav hidden>Menu</nav><p>Dear Sir,</p><p>Thanks.</p></body></html>",
        encoding="utf-8",
    )
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == "Dear Sir,\n\nThanks."
    assert dict(letter.meta) == {"format": "html", "title": "My MP replies"}


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>x</title></head><body><script>1</script></body></html>")
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == "no visible text in HTML page"
