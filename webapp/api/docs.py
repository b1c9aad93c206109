"""``GET /api/docs``: the API reference, rendered in the browser from ``/api/v3/openapi.json``.

The viewer is Swagger UI (``swagger-ui-dist``, vendored by scripts/vendor_frontend.sh): of the
npm viewers it is the one that runs under the console's strict CSP unchanged. Its bundle needs
no ``eval`` and injects no ``<style>`` elements (it styles through the DOM), so this route keeps
the global policy: no inline script, no inline style, same-origin only. Redoc and Scalar both
inject style tags at run time and would need ``style-src 'unsafe-inline'``.

The page is public like the document it renders: it shows which role each operation needs, not
any data. "Try it out" calls the API from the page with the token an operator pastes into
"Authorize"; nothing is stored.
"""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

from webapp.security import public

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
@public
def reference():
    return render_template("api/docs.html", document_url=url_for("api.openapi.openapi_document"))
