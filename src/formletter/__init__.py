"""formletter: find the form letters in a pile of correspondence."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
