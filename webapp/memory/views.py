"""/memory: tier cards with charts, namespaces, a namespace's entries; admin flush and reset.

The tier cards are a block of the page that htmx polls; everything else is plain forms (CSRF
protected POSTs that call the same service functions as the API, which audit them). Flushing
a namespace asks for confirmation on a page of its own.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from pydantic import Field
from redis import RedisError

from webapp import logs
from webapp.api.inputs import Query, parse_query
from webapp.api.pagination import DEFAULT_LIMIT
from webapp.extensions import db, htmx
from webapp.fragments import polled, render_block
from webapp.health.panel import sparkline_points
from webapp.memory import keys, service
from webapp.memory.memo import saved_by_step
from webapp.memory.models import MAX_KEY_CHARS
from webapp.memory.stats import TIERS
from webapp.security import require_role

bp = Blueprint("memory", __name__)


@bp.errorhandler(RedisError)
def redis_unavailable(error: RedisError):
    return render_template("errors/error.html", status=503, title="Redis is unreachable",
                           message="Memory statistics live in Redis, which does not answer right now. "
                                   "Values are still read from and written to the database.",
                           request_id=logs.current("request_id")), 503
POLL_SECONDS = 5
CHART_MINUTES = 60


class BrowseQuery(Query):
    prefix: str = Field(default="", max_length=MAX_KEY_CHARS)
    after: str | None = Field(default=None, max_length=MAX_KEY_CHARS)


@bp.app_template_global("memo_savings")
def memo_savings(run_id: int) -> dict:
    """What each step's memo hit saved ({step run id: Decimal}), for the run page's badge."""
    return saved_by_step(run_id)


def charts(history: list[dict]) -> dict[str, str]:
    """Per tier, the hit rate of each minute with reads, as sparkline points."""
    lines = {}
    for tier in TIERS:
        rates = [row[f"{tier}_hits"] / (row[f"{tier}_hits"] + row[f"{tier}_misses"])
                 for row in history if row[f"{tier}_hits"] + row[f"{tier}_misses"]]
        lines[tier] = sparkline_points(rates)
    return lines


@bp.get("/memory")
@require_role("viewer")
def index():
    context = {"tiers": service.stats_json(), "charts": charts(service.history(CHART_MINUTES)),
               "namespaces": service.namespaces(), "poll_seconds": POLL_SECONDS, "tier_names": TIERS}
    if htmx:
        return polled(render_block("memory/index.html", "tiers", **context))
    return render_template("memory/index.html", **context)


@bp.post("/memory/stats/reset")
@require_role("admin")
def reset_stats():
    service.reset_stats(current_user)
    db.session.commit()
    flash("Memory statistics start from zero now.", "info")
    return redirect(url_for("memory.index"))


@bp.get("/memory/ns/<namespace>")
@require_role("viewer")
def namespace(namespace: str):
    keys.check_namespace(namespace)
    query = parse_query(BrowseQuery)
    rows = service.entries(namespace, prefix=query.prefix, after=query.after, limit=DEFAULT_LIMIT)
    shown = rows[:DEFAULT_LIMIT]
    hits = service.hits_of(shown)
    entries = [{**service.entry_json(row, hits[(row.namespace, row.key)]), "preview": service.preview(row)}
               for row in shown]
    next_after = shown[-1].key if len(rows) > DEFAULT_LIMIT else None
    return render_template("memory/namespace.html", namespace=namespace, entries=entries, prefix=query.prefix,
                           next_after=next_after)


@bp.post("/memory/ns/<namespace>/entries/<key>/delete")
@require_role("operator")
def delete_entry(namespace: str, key: str):
    service.remove(namespace, key, current_user)
    db.session.commit()
    flash(f"Deleted {key} from {namespace}.", "info")
    return redirect(url_for("memory.namespace", namespace=namespace))


@bp.get("/memory/ns/<namespace>/flush")
@require_role("admin")
def confirm_flush(namespace: str):
    keys.check_namespace(namespace)
    summary = next((row for row in service.namespaces() if row["namespace"] == namespace),
                   {"namespace": namespace, "entries": 0, "bytes": 0, "l4_entries": 0})
    return render_template("memory/flush_confirm.html", summary=summary)


@bp.post("/memory/ns/<namespace>/flush")
@require_role("admin")
def flush(namespace: str):
    count = service.flush(namespace, current_user)
    db.session.commit()
    flash(f"Flushed {namespace}: {count} entr{'y' if count == 1 else 'ies'} deleted from every tier.", "info")
    return redirect(url_for("memory.index"))
