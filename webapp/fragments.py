"""htmx fragments are blocks of the page template, never separate copies.

A view renders the whole page for a normal request and only the named block for an htmx
request, with the same context, so the fragment and the page cannot drift apart.
"""
from __future__ import annotations

from flask import Response, current_app, make_response


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
