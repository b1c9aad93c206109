"""Saved filters of the runs list: an operator names the filter they are looking at and picks
it again later from the list.

Each user has their own (``saved_filters``, at most ``MAX_PER_USER``); a filter is the runs
list's query parameters, checked by the list's own ``RunFilters`` before they are stored, so a
saved filter always opens a page the list accepts. Saving under a name already used replaces
that filter.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import func, select

from webapp.api.inputs import field_errors
from webapp.console.models import MAX_NAME_CHARS, SavedFilter
from webapp.exceptions import Conflict, InvalidInput, NotFound
from webapp.extensions import db
from webapp.runs.views import RunFilters
from webapp.security import require_role

MAX_PER_USER = 30
FILTER_FIELDS = ("status", "workflow", "triggered_by", "range")

bp = Blueprint("saved_filters", __name__, url_prefix="/runs/filters")


@bp.app_template_global("run_filter_query")
def filter_query(filters: RunFilters) -> dict[str, str | int]:
    """The filter part of the runs list's query (no page cursor), as a saved filter stores it."""
    return filters.model_dump(exclude={"cursor"}, exclude_none=True)


def filters_of(user_id: int) -> list[SavedFilter]:
    return list(db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == user_id)
                                   .order_by(SavedFilter.name, SavedFilter.id)))


def save(user_id: int, name: str, fields: dict[str, str]) -> SavedFilter:
    """Store (or replace) the user's filter ``name``; raises InvalidInput/Conflict with the reason."""
    name = " ".join(name.replace("\x00", "").split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Give the filter a name of 1 to {MAX_NAME_CHARS} characters.",
                           details={"fields": {"name": "required, at most 60 characters"}})
    try:
        query = filter_query(RunFilters.model_validate(fields))
    except ValidationError as error:
        bad = field_errors(error)
        raise InvalidInput("The filter is not one the runs list accepts (" +
                           "; ".join(f"{field}: {message}" for field, message in bad.items()) + ").",
                           details={"fields": bad}) from None
    if not query:
        raise InvalidInput("Choose at least one filter before saving it.", details={"fields": {}})
    row = db.session.scalar(select(SavedFilter).where(SavedFilter.user_id == user_id, SavedFilter.name == name))
    if row is None:
        count = db.session.scalar(select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user_id))
        if count >= MAX_PER_USER:
            raise Conflict(f"You have {MAX_PER_USER} saved filters, the most there can be; delete one first.",
                           code="too_many_filters")
        row = SavedFilter(user_id=user_id, name=name, query=query)
        db.session.add(row)
    else:
        row.query = query
    db.session.commit()
    return row


def delete(user_id: int, filter_id: int) -> SavedFilter:
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.user_id != user_id:  # another user's filter does not exist for this one
        raise NotFound("There is no saved filter with this id.", code="filter_not_found")
    db.session.delete(row)
    db.session.commit()
    return row


@bp.app_template_global("saved_run_filters")
def saved_run_filters() -> list[SavedFilter]:
    return filters_of(current_user.id) if current_user.is_authenticated else []


@bp.post("")
@require_role("viewer")
def create():
    fields = {name: request.form.get(name, "") for name in FILTER_FIELDS}
    row = save(current_user.id, request.form.get("name", ""), fields)
    flash(f"Saved the filter “{row.name}”.", "info")
    return redirect(url_for("runs.index", **row.query), code=303)


@bp.post("/<int:filter_id>/delete")
@require_role("viewer")
def remove(filter_id: int):
    row = delete(current_user.id, filter_id)
    flash(f"Deleted the filter “{row.name}”.", "info")
    return redirect(url_for("runs.index"), code=303)
