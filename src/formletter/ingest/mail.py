"""Email: ``.eml`` files and mbox mailboxes (stdlib :mod:`email`).

A message gives one letter: its body (``text/plain`` preferred, else HTML turned into
text) without the quoted reply tail (the ``On ... wrote:`` line, ``>`` lines, Outlook's
"Original Message" block). The sign-off and ``-- `` signature stay: anatomy parses them.
``From``/``To``/``Date``/``Subject`` go into ``Letter.meta``. Attachments of a format
formletter reads become letters of their own, named ``mail.eml!file.pdf``. Messages of
an mbox are named ``box.mbox#N`` (1-based).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from formletter.errors import EmptyInputError, InputError
from formletter.ingest._common import Output, Source
from formletter.ingest.markup import html_to_text
from formletter.ingest.options import IngestOptions
from formletter.ingest.text import decode_bytes, normalize_newlines

__all__ = ["read_eml", "read_mbox", "split_mbox", "strip_quoted_reply"]

_HEADERS = ("from", "to", "cc", "date", "subject")
_ATTRIBUTION = re.compile(
    r"^\s*(?:On\b.{0,300}\bwrote|Le\b.{0,300}\ba écrit|Am\b.{0,300}\bschrieb"
    r"|El\b.{0,300}\bescribió)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OUTLOOK_RULE = re.compile(r"^\s*(?:-{2,}\s*Original Message\s*-{2,}|_{10,})\s*$", re.I)
_HEADER_LINE = re.compile(r"^\s*\*?(From|Sent|Date|To|Subject|Cc)\s*:\*?\s", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw)\s*:", re.IGNORECASE)
_QUOTE = re.compile(r"^[ \t]*>")
_FROM_LINE = re.compile(rb"^From \S+[^\n]*\d\d:\d\d[^\n]*$", re.MULTILINE)
_MBOXRD = re.compile(rb"^>(>*From )", re.MULTILINE)
#: most messages read from one mailbox
_MAX_MESSAGES = 100_000


def _is_attribution(lines: list[str], i: int) -> int:
    """How many lines (1 or 2) form a reply attribution at ``i``, or 0."""
    if _ATTRIBUTION.match(lines[i]):
        return 1
    if i + 1 < len(lines) and _ATTRIBUTION.match(lines[i] + " " + lines[i + 1]):
        return 2
    return 0


def _is_outlook_header(lines: list[str], i: int) -> bool:
    """An Outlook-style quoted header block: From:, then Sent:/Date: and Subject: soon."""
    if not _HEADER_LINE.match(lines[i]) or not lines[i].lstrip("* ").lower().startswith("from"):
        return False
    names = set()
    for line in lines[i : i + 6]:
        m = _HEADER_LINE.match(line)
        if m:
            names.add(m.group(1).lower())
    return "subject" in names and bool(names & {"sent", "date"})


def strip_quoted_reply(text: str, *, forwarded: bool = False) -> str:
    """``text`` without the quoted tail of a reply and without ``>`` lines.

    A forwarded message (``forwarded=True``, e.g. a ``Fwd:`` subject) is kept whole: what
    follows its quote marks is the letter being passed on."""
    if forwarded:
        return text.strip("\n").rstrip()
    lines = text.split("\n")
    cut = len(lines)
    for i in range(len(lines)):
        n = _is_attribution(lines, i)
        if n:
            rest = [ln for ln in lines[i + n :] if ln.strip()]
            quoted = sum(1 for ln in rest if _QUOTE.match(ln))
            if not rest or quoted * 2 >= len(rest):
                cut = i
                break
        if _OUTLOOK_RULE.match(lines[i]) or _is_outlook_header(lines, i):
            cut = i
            break
    kept = [ln for ln in lines[:cut] if not _QUOTE.match(ln)]
    return "\n".join(kept).strip("\n").rstrip()


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the letter
        raw = msg.get_all(name, failobj=[])
        value = raw[0] if raw else None
    return " ".join(str(value).split()) if value is not None else ""


def _part_text(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return normalize_newlines(content)
        except Exception:  # unknown charset, broken transfer encoding: decode the bytes
            pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return ""
    try:
        return decode_bytes(payload).text
    except InputError:
        return ""


def _body_and_attachments(msg: Message) -> tuple[str, list[Message]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[Message] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        ctype = part.get_content_type()
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            if filename:
                attachments.append(part)
            continue
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)
        elif ctype == "text/html" and html is None:
            html = _part_text(part)
    if plain is not None and plain.strip():
        return normalize_newlines(plain), attachments
    if html is not None:
        return html_to_text(html), attachments
    return "", attachments


def _read_message(
    raw: bytes, name: str, source: Source, options: IngestOptions, out: Output
) -> None:
    from formletter.ingest.dispatch import read_source

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    meta: list[tuple[str, str]] = [("format", "email")]
    for header in _HEADERS:
        value = _header(msg, header)
        if value:
            meta.append((header, value))
            if header == "date":
                with contextlib.suppress(TypeError, ValueError, IndexError):
                    meta.append(("date_iso", parsedate_to_datetime(value).isoformat()))
    body, attachments = _body_and_attachments(msg)
    forwarded = bool(_FORWARD_SUBJECT.match(_header(msg, "subject")))
    # Plain bodies stay as written (the "-- " signature marker keeps its space).
    text = _CONTROL.sub("", strip_quoted_reply(body, forwarded=forwarded))
    read_any = False
    for part in attachments:
        filename = (part.get_filename() or "").replace("\\", "/").rsplit("/", 1)[-1]
        payload = part.get_payload(decode=True)
        if not filename or not isinstance(payload, bytes) or not payload:
            continue
        if len(payload) > out.archive_budget:
            out.fail(f"{name}!{filename}", "refused: attachments exceed the archive size limit")
            continue
        out.archive_budget -= len(payload)
        sub = out.child()
        child = Source(f"{name}!{filename}", payload, filename, depth=source.depth + 1)
        read_source(child, options, sub)
        out.absorb_budgets(sub)
        out.failures.extend(sub.failures)
        for letter in sub.letters:
            read_any = True
            out.letter(
                letter.text,
                letter.source,
                (*meta, ("attachment", filename), *letter.meta),
                ocr_confidence=letter.ocr_confidence,
            )
    if text.strip():
        out.letter(text, name, tuple(meta))
    elif not read_any:
        raise EmptyInputError("email has no body text")


def read_eml(source: Source, options: IngestOptions, out: Output) -> None:
    """One email message."""
    if not source.data.strip():
        raise EmptyInputError("empty file")
    _read_message(source.data, source.name, source, options, out)


def split_mbox(data: bytes) -> list[bytes]:
    """The raw messages of an mbox (``From `` separator lines removed, ``>From`` unescaped)."""
    data = data.replace(b"\r\n", b"\n")
    starts = [
        m.start()
        for m in _FROM_LINE.finditer(data)
        if m.start() == 0
        or data[max(0, m.start() - 2) : m.start()] == b"\n\n"
        or (m.start() > 0 and data[: m.start()].strip() == b"")
    ]
    if not starts:
        return [data] if data.strip() else []
    messages: list[bytes] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        chunk = data[start:end]
        newline = chunk.find(b"\n")
        body = chunk[newline + 1 :] if newline >= 0 else b""
        messages.append(_MBOXRD.sub(rb"\1", body))
    return messages


def read_mbox(source: Source, options: IngestOptions, out: Output) -> None:
    """Every message of a mailbox, as ``path#N``."""
    messages = split_mbox(source.data)
    if not messages:
        raise EmptyInputError("empty mailbox")
    if len(messages) > _MAX_MESSAGES:
        raise InputError(f"too many messages ({len(messages)}, limit {_MAX_MESSAGES})")
    for number, raw in enumerate(messages, start=1):
        name = f"{source.name}#{number}"
        try:
            _read_message(raw, name, source, options, out)
        except Exception as exc:
            out.fail_exc(name, exc, "message")
