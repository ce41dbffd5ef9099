"""Plain text: decoding bytes of unknown encoding, and reading ``.txt``/``.md`` letters.

Decoding order: a byte-order mark wins (UTF-8, UTF-16, UTF-32); NUL bytes mean UTF-16
without a mark or a binary file; strict UTF-8 next; otherwise the candidates of
charset-normalizer plus cp1252 are decoded and the least implausible reading wins (see
:mod:`formletter.ingest._charset`). A reading that is still mostly mojibake is refused as
undecodable. The text is kept verbatim except that newlines become ``\\n`` and the BOM
is dropped.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from formletter.errors import BinaryInputError, DecodeError, EmptyInputError
from formletter.ingest._charset import implausibility
from formletter.ingest._common import Output, Source

__all__ = ["Decoded", "decode_bytes", "looks_binary", "normalize_newlines", "read_text"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: the byte-order marks above, for one ``startswith``
_BOM_PREFIXES = tuple(bom for bom, _ in _BOMS)
# C0 control bytes that never appear in text (tab, newlines, form feed and ESC excluded).
_BINARY_BYTES = bytes([*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_SNIFF = 64 * 1024
#: how much of a file charset-normalizer looks at
_DETECT_SAMPLE = 256 * 1024


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_binary(data: bytes) -> str | None:
    """Why ``data`` is not text (NUL or control bytes), or None when it may be text.
    UTF-16/32 with a byte-order mark is text."""
    head = data[:_SNIFF]
    if head.startswith(_BOM_PREFIXES):
        return None
    if b"\x00" in head:
        return None if _utf16_without_bom(head) else "binary file (contains NUL bytes)"
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    if controls > max(2, len(head) // 100):
        return "binary file (control bytes)"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """The UTF-16 byte order when ``head`` looks like BOM-less UTF-16 text."""
    if len(head) < 4:
        return None
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    pairs = len(head) // 2
    if odd > pairs * 0.7 and even < pairs * 0.05:
        order = "utf-16-le"
    elif even > pairs * 0.7 and odd < pairs * 0.05:
        order = "utf-16-be"
    else:
        return None
    try:
        text = head[: len(head) - len(head) % 2].decode(order)
    except UnicodeDecodeError:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\t\n\r")
    return order if printable >= len(text) * 0.95 else None


def decode_bytes(data: bytes) -> Decoded:
    """Decode ``data`` into text with newlines normalised and no BOM.

    Raises :class:`EmptyInputError`, :class:`BinaryInputError` or :class:`DecodeError`.
    """
    if not data:
        raise EmptyInputError("empty file")
    for bom, encoding in _BOMS if data.startswith(_BOM_PREFIXES) else ():
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"undecodable bytes: invalid {encoding} after its byte-order mark "
                    f"(at byte {exc.start + len(bom)})"
                ) from None
            suffix = "-sig" if bom == codecs.BOM_UTF8 else ""
            return Decoded(normalize_newlines(text), encoding + suffix)
    reason = looks_binary(data)
    if reason:
        raise BinaryInputError(reason)
    if b"\x00" in data[:_SNIFF]:
        order = _utf16_without_bom(data[:_SNIFF])
        assert order is not None
        try:
            return Decoded(normalize_newlines(data.decode(order)), order)
        except UnicodeDecodeError:
            raise DecodeError(f"undecodable bytes: not valid {order}") from None
    try:
        return Decoded(normalize_newlines(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError:
        pass
    return _guess(data)


def _guess(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes

    candidates: list[str] = ["cp1252"]
    matches = from_bytes(data[:_DETECT_SAMPLE])
    for match in list(matches)[:4]:
        enc = match.encoding
        if enc not in candidates and not enc.startswith(("ascii", "utf")):
            candidates.append(enc)
    best: tuple[float, str, str] | None = None
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        score = implausibility(text)
        if best is None or score < best[0]:
            best = (score, enc, text)
    if best is None:
        raise DecodeError("undecodable bytes: no text encoding fits")
    score, enc, text = best
    non_ascii = sum(1 for c in text[:200_000] if not c.isascii())
    if score >= 3 and score >= non_ascii * 0.5:
        raise DecodeError(f"undecodable bytes: the best guess ({enc}) still reads as mojibake")
    return Decoded(normalize_newlines(text), codecs.lookup(enc).name)


def read_text(source: Source, out: Output) -> None:
    """A whole file as one letter."""
    decoded = decode_bytes(source.data)
    if not decoded.text.strip():
        raise EmptyInputError("empty file (only whitespace)")
    out.letter(
        decoded.text,
        source.name,
        (("format", "text"), ("encoding", decoded.encoding)),
    )
