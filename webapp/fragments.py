"""htmx fragments are blocks of the page template, never separate copies.

A view renders the whole page for a normal request and only the named block for an htmx
request, with the same context, so the fragment and the page cannot drift apart.

Every page and fragment goes through ``printable``: a row saved before input was checked at
the door may hold a lone surrogate, which has no UTF-8 encoding, so encoding the response
would fail and the page would be a 500 for good. It renders as U+FFFD instead.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, make_response
from markupsafe import Markup

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render_block(template_name: str, block: str, **context) -> str:
    """Render one block of a page template, with the same context the whole page would get."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_template(template_name)
    app.update_template_context(context)
    return "".join(template.blocks[block](template.new_context(context)))


def polled(html: str) -> Response:
    """A fragment that htmx polls: never cached, so every poll sees the current state."""
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


def printable(value: Any) -> Any:
    """Jinja's ``finalize``: every ``{{ expression }}`` is made encodable (Markup stays Markup)."""
    if isinstance(value, str) and LONE_SURROGATE.search(value):
        cleaned = LONE_SURROGATE.sub("\ufffd", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned  # noqa: S704 (was Markup already)
    return value


def init_safe_rendering(app: Flask) -> None:
    app.jinja_env.finalize = printable
