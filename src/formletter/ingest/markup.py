"""HTML pages and HTML email bodies: the visible text only.

Built on :mod:`html.parser`. Script, style, head and similar elements are skipped, and so
is anything marked ``hidden`` or styled ``display:none``. Block elements start new lines
(paragraph-like ones a blank line), ``<br>`` breaks a line, whitespace collapses outside
``<pre>``, and entities are decoded.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from formletter.errors import EmptyInputError
from formletter.ingest._common import Output, Source, tidy_extracted
from formletter.ingest.text import decode_bytes, normalize_newlines

__all__ = ["decode_html", "html_to_text", "read_html"]

_SKIP = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "svg", "math", "iframe",
     "object", "canvas", "select", "datalist", "audio", "video", "map"}
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl",
     "address", "hr", "figure", "fieldset", "section", "article", "aside", "header",
     "footer", "main", "nav", "form"}
)  # fmt: skip
_LINE = frozenset(
    {"div", "li", "tr", "dt", "dd", "caption", "figcaption", "thead", "tbody", "tfoot",
     "legend", "details", "summary", "option", "center"}
)  # fmt: skip
_CELL = frozenset({"td", "th"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"[ \t\n\r\f\v]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._break = 0  # newlines owed before the next text
        self._space = False  # a space is owed before the next text
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._pre = 0
        self._cell_started = False

    # -- output
    def _request_break(self, n: int) -> None:
        self._break = max(self._break, n)
        self._space = False

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.chunks:
            if self._break:
                self.chunks.append("\n" * self._break)
            elif self._space and not self.chunks[-1].endswith(("\n", "\t", " ")):
                self.chunks.append(" ")
        self._break = 0
        self._space = False
        self.chunks.append(text)

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        hidden = any(
            name == "hidden" or (name == "style" and value and _HIDDEN_STYLE.search(value))
            for name, value in attrs
        )
        if tag in _SKIP or (hidden and tag not in _VOID):
            self._skip_tag, self._skip_depth = tag, 1
            return
        self._open_or_close(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is None and tag not in _SKIP:
            self._open_or_close(tag, opening=True)
            if tag not in _VOID:
                self._open_or_close(tag, opening=False)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        self._open_or_close(tag, opening=False)

    def _open_or_close(self, tag: str, *, opening: bool) -> None:
        if tag == "br":
            if opening:
                if not self.chunks:
                    return
                self.chunks.append("\n" * (self._break or 1) if self._break else "\n")
                self._break = 0
                self._space = False
            return
        if tag == "pre":
            self._pre += 1 if opening else -1
            self._pre = max(self._pre, 0)
        if tag in _PARAGRAPH:
            self._request_break(2)
        elif tag in _LINE:
            self._request_break(1)
            self._cell_started = False
        elif tag in _CELL and opening:
            if self._cell_started and not self._break:
                self._emit_separator()
            self._cell_started = True

    def _emit_separator(self) -> None:
        if self.chunks:
            self.chunks.append("\t")
            self._space = False

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None or not data:
            return
        if self._pre:
            self._emit(normalize_newlines(data))
            return
        if data[:1].isspace() and not self._break:
            self._space = True
        collapsed = _SPACE.sub(" ", data).strip()
        if collapsed:
            self._emit(collapsed)
            if data[-1:].isspace():
                self._space = True

    def text(self) -> str:
        return tidy_extracted("".join(self.chunks))


def html_to_text(html: str) -> str:
    """The visible text of an HTML document or fragment."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


def decode_html(data: bytes) -> str:
    """Decode HTML bytes: a BOM, then a ``<meta charset>`` that fits, then detection."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        match = _META_CHARSET.search(data[:4096])
        if match:
            try:
                return normalize_newlines(data.decode(match.group(1).decode("ascii")))
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_bytes(data).text


def read_html(source: Source, out: Output) -> None:
    """An HTML page as one letter."""
    html = decode_html(source.data)
    text = html_to_text(html)
    if not text.strip():
        raise EmptyInputError("no visible text in HTML page")
    meta: list[tuple[str, str]] = [("format", "html")]
    title = _TITLE.search(html[:65536])
    if title:
        name = " ".join(html_to_text(title.group(1)).split())
        if name:
            meta.append(("title", name))
    out.letter(text, source.name, tuple(meta))
