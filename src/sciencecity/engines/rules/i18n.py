"""Translatable messages without Django.

Engine messages are written ``_("English with %(name)s", name=value)``: ``makemessages`` extracts
the template (``_`` is one of xgettext's keywords) and the caller decides the language by running
the engine inside ``translating(gettext)``. Without a translator the English template is used.
Percent signs that are not placeholders are written ``%%`` in templates that take values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_translator: ContextVar[Callable[[str], str] | None] = ContextVar("rules_translator", default=None)


def _(template: str, **values: object) -> str:
    translate = _translator.get()
    text = translate(template) if translate else template
    return text % values if values else text


@contextmanager
def translating(translate: Callable[[str], str]) -> Iterator[None]:
    """Render the engine's messages through ``translate`` (e.g. Django's ``gettext``) in this block."""
    token = _translator.set(translate)
    try:
        yield
    finally:
        _translator.reset(token)


def percent(value: float, digits: int = 2) -> str:
    """A ratio as a percentage text (4.83%)."""
    return f"{value * 100:.{digits}f}%"
