"""The local web app: browse a formletter database in a browser, or as JSON.

Pages: ``/`` overview, ``/families/{id}``, ``/letters/{id}`` (template and letter side by
side), ``/senders`` and ``/senders/{key}``, ``/search`` (full text, filtered, paged),
``/match`` (is this a form letter? nothing is stored) and ``/openapi.json``. Every page
also answers JSON at its path plus ``.json``, or with ``Accept: application/json``.

The database is only read. Letters are treated as hostile: all text is escaped and
every response carries a Content-Security-Policy without inline script.

Needs the ``web`` extra (starlette, jinja2, uvicorn, python-multipart)::

    from formletter.web import create_app, serve
    serve("campaign.db", port=8000)
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from formletter.errors import MissingDependencyError

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["create_app", "serve"]

_FEATURE = "the web app"
#: (module imported, package to install)
_MODULES = (
    ("starlette", "starlette"),
    ("jinja2", "jinja2"),
    ("uvicorn", "uvicorn"),
    ("python_multipart", "python-multipart"),
)


def _require() -> None:
    """Raise MissingDependencyError naming the first web module that cannot be imported."""
    for module, package in _MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            raise MissingDependencyError(_FEATURE, "web", package) from None


def create_app(db_path: str | os.PathLike[str]) -> Starlette:
    """The Starlette app serving the database at ``db_path``, opened read-only.

    Raises :class:`~formletter.errors.StoreError` when the database cannot be opened and
    :class:`~formletter.errors.MissingDependencyError` when the ``web`` extra is missing."""
    _require()
    from formletter.web._app import build_app

    return build_app(Path(db_path))


def serve(db_path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the database at ``db_path`` on ``host:port`` until interrupted."""
    app = create_app(db_path)
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
