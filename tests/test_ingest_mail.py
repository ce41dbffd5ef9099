"""Email: .eml and mbox bodies, headers into meta, quoted replies dropped."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.ingest import IngestOptions, read_file
from formletter.ingest.mail import split_mbox, strip_quoted_reply
from formletter.ingest.render import text_pdf_bytes, write_eml, write_mbox

BODY = (
    "Dear Constituent,\n\nThank you for contacting me about the Home Office.\n\n"
    "Yours sincerely,\n\nJane Smith MP\n-- \nJane Smith | Member of Parliament"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Thanks for writing.\n\nOn Mon, 3 Sep 2018, Ann <a@b.c> wrote:\n> Dear MP\n> help",
            "Thanks for writing.",
        ),
        (  # attribution wrapped over two lines
            "Reply.\n\nOn Mon, 3 Sep 2018 at 10:00, Ann Person\n<a@b.c> wrote:\n>\n> quoted",
            "Reply.",
        ),
        ("Reply.\n\n-----Original Message-----\nFrom: Ann\nSent: Monday\nquoted", "Reply."),
        (
            "Reply.\n\nFrom: Ann <a@b.c>\nSent: 03 September 2018\nTo: MP\nSubject: Help\n\nold",
            "Reply.",
        ),
        ("> quoted top\nMy answer.\n> more quoted\nMore answer.", "My answer.\nMore answer."),
        # Signatures stay; a sentence merely starting with "On" is not an attribution.
        (BODY, BODY),
        (
            "On balance I agree.\nI wrote: yes.\nSigned",
            "On balance I agree.\nI wrote: yes.\nSigned",
        ),
    ],
)
def test_strip_quoted_reply(text: str, expected: str) -> None:
    assert strip_quoted_reply(text) == expected


@given(st.lists(st.text(alphabet="ab >\t", max_size=8), max_size=12))
def test_no_quote_lines_survive(lines: list[str]) -> None:
    result = strip_quoted_reply("\n".join(lines))
    assert not any(line.lstrip(" \t").startswith(">") for line in result.split("\n"))


def test_eml_body_headers_and_quoted_tail(tmp_path: Path) -> None:
    path = write_eml(
        BODY,
        tmp_path / "reply.eml",
        sender="Jane Smith MP <jane.smith.mp@parliament.uk>",
        subject="Re: Home Office",
        quoted_reply="Dear Jane,\nplease help.",
    )
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    assert letter.text == BODY
    meta = dict(letter.meta)
    assert meta["from"] == "Jane Smith MP <jane.smith.mp@parliament.uk>"
    assert meta["subject"] == "Re: Home Office"
    assert meta["format"] == "email"


def test_html_only_email(tmp_path: Path) -> None:
    path = write_eml(BODY, tmp_path / "h.eml", html_body=True)
    (letter,) = read_file(path, IngestOptions()).letters
    assert "Thank you for contacting me about the Home Office." in letter.text
    assert "<p>" not in letter.text


def test_forwarded_letter_is_kept(tmp_path: Path) -> None:
    body = "FYI\n\n-----Original Message-----\nFrom: MP\nSent: today\nSubject: x\n\n" + BODY
    path = write_eml(body, tmp_path / "f.eml", subject="Fwd: reply from my MP")
    (letter,) = read_file(path, IngestOptions()).letters
    assert BODY in letter.text


def test_multipart_with_attachment(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "office@example.org"
    msg["Subject"] = "Your letter"
    msg["Date"] = "Mon, 03 Sep 2018 10:00:00 +0100"
    msg.set_content("Please find my reply attached.\n\nOffice")
    msg.add_alternative("<p>Please find my reply <b>attached</b>.</p>", subtype="html")
    msg.add_attachment(
        text_pdf_bytes(BODY), maintype="application", subtype="pdf", filename="reply.pdf"
    )
    msg.add_attachment(b"\x00\x01", maintype="application", subtype="x-bin", filename="x.bin")
    path = tmp_path / "m.eml"
    path.write_bytes(msg.as_bytes())
    result = read_file(path, IngestOptions())
    by_source = {letter.source: letter for letter in result.letters}
    assert by_source[str(path)].text == "Please find my reply attached.\n\nOffice"
    attached = by_source[f"{path}!reply.pdf"]
    assert "Thank you for contacting me about the Home Office." in attached.text
    meta = dict(attached.meta)
    assert meta["attachment"] == "reply.pdf" and meta["subject"] == "Your letter"
    assert meta["date_iso"] == "2018-09-03T10:00:00+01:00"
    assert [f.source for f in result.failures] == [f"{path}!x.bin"]


def test_mbox_messages(tmp_path: Path) -> None:
    tricky = "From the start, I disagreed.\n\nFrom here on\n>From quoted"
    path = write_mbox([BODY, tricky, "   "], tmp_path / "box.mbox")
    result = read_file(path, IngestOptions())
    assert [letter.source for letter in result.letters] == [f"{path}#1", f"{path}#2"]
    assert result.letters[0].text == BODY
    assert result.letters[1].text.startswith("From the start, I disagreed.\n\nFrom here on")
    assert [(f.source, f.reason) for f in result.failures] == [
        (f"{path}#3", "email has no body text")
    ]


@given(st.lists(st.text(alphabet="From abc\n>", min_size=1, max_size=40), min_size=1, max_size=5))
def test_mbox_split_round_trip(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    path = write_mbox(texts, tmp_path_factory.mktemp("mbox") / "b.mbox")
    assert len(split_mbox(path.read_bytes())) == len(texts)


def test_empty_email(tmp_path: Path) -> None:
    path = tmp_path / "e.eml"
    path.write_bytes(b"From: a@b.c\nSubject: nothing\n\n\n")
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == "email has no body text"
