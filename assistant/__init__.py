"""Casebook: question answering over UK child safeguarding case reviews, with citations.

    from assistant import Casebook
    cb = Casebook()
    cb.ensure_indexed()
    answer = cb.ask("what did reviews say about bruising in non-mobile babies?")

The names below are loaded lazily, so importing a module of this package does not pull in Chroma or
the model.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Answer", "Casebook", "Filters", "load_settings"]


def __getattr__(name: str) -> Any:
    if name == "Casebook":
        from assistant.casebook import Casebook

        return Casebook
    if name in ("Answer", "Filters"):
        from records import types

        return getattr(types, name)
    if name == "load_settings":
        from records.settings import load_settings

        return load_settings
    raise AttributeError(name)
