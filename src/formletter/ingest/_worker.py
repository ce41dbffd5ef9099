"""The worker process behind :mod:`formletter.ingest._pool`.

Run as ``python -m formletter.ingest._worker``. It reads pickled ``(function, argument)``
pairs from stdin and writes pickled replies to a private copy of stdout; the real
stdout is pointed at stderr, so nothing a library prints can corrupt the channel.
SIGINT is ignored (the parent decides when to stop), and end of input means the parent
has gone: the worker exits. Once its libraries are loaded it says ``("ready", None)``,
so the parent starts the task's clock only then.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["PRELOAD", "serve"]

#: imported at start so the first task does not pay for them (missing ones are skipped)
PRELOAD = (
    "formletter.ingest.dispatch",
    "formletter.ingest.runner",
    "pypdf",
    "PIL.Image",
    "pytesseract",
    "docx",
    "openpyxl",
    "charset_normalizer",
)


def serve(inbox: Connection, outbox: Connection) -> None:
    """Answer tasks until the input ends or a ``None`` task arrives."""
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, arg = message
        try:
            reply: tuple[str, Any] = ("ok", fn(arg))
        except BaseException as exc:  # report everything; the parent decides
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            outbox.send(reply)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # the reply could not be pickled
            try:
                outbox.send(("error", f"result could not be sent: {type(exc).__name__}: {exc}"))
            except Exception:
                return


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    outbox = Connection(reply_fd, readable=False)
    try:
        outbox.send(("ready", None))
    except OSError:
        return
    serve(Connection(0, writable=False), outbox)


if __name__ == "__main__":
    main()
