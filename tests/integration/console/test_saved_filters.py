"""Saved filters of the runs list: per user, in PostgreSQL, checked like the list's own query."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from webapp.console import saved_filters
from webapp.console.models import SavedFilter
from webapp.extensions import db

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
SAVED = re.compile(r'data-testid="saved-filter" data-name="([^"]*)">\s*<a href="([^"]*)"')


def save(client, **fields):
    csrf = csrf_token_from(client.get("/runs").get_data(as_text=True))
    return client.post("/runs/filters", data={"csrf_token": csrf, **fields}, headers=SAME_ORIGIN)


def shown(client, url="/runs") -> list[tuple[str, str]]:
    return [(name, href.replace("&amp;", "&")) for name, href in SAVED.findall(client.get(url).get_data(as_text=True))]


def test_a_viewer_saves_a_filter_and_picks_it_again_and_others_do_not_see_it(client, login_as, make_user):
    viewer = login_as("viewer")
    response = save(client, name="  Failed   this week ", status="failed", range="7d", workflow="", triggered_by="")
    assert response.status_code == 303 and response.headers["Location"].endswith("/runs?status=failed&range=7d")
    row = db.session.scalar(select(SavedFilter).where(SavedFilter.user_id == viewer.id))
    assert (row.name, row.query) == ("Failed this week", {"status": "failed", "range": "7d"})
    assert shown(client) == [("Failed this week", "/runs?status=failed&range=7d")]
    assert 'aria-current="true"' in client.get("/runs?status=failed&range=7d").get_data(as_text=True)

    save(client, name="Failed this week", status="failed", range="24h")  # the same name replaces it
    assert shown(client) == [("Failed this week", "/runs?status=failed&range=24h")]

    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))},
                headers=SAME_ORIGIN)
    login_as("operator")
    assert shown(client) == []


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"name": "", "status": "failed"}, 422, "Give the filter a name"),
    ({"name": "x" * 61, "status": "failed"}, 422, "Give the filter a name"),
    ({"name": "nothing"}, 422, "Choose at least one filter"),
    ({"name": "bad", "status": "exploded"}, 422, "not one the runs list accepts"),
    ({"name": "bad", "triggered_by": "-3"}, 422, "not one the runs list accepts"),
])
def test_bad_filters_are_refused_with_the_reason(client, login_as, fields, status, message):
    login_as("viewer")
    response = save(client, **fields)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert db.session.scalars(select(SavedFilter)).all() == []


def test_the_number_of_filters_is_bounded(client, login_as, monkeypatch):
    monkeypatch.setattr(saved_filters, "MAX_PER_USER", 2)
    login_as("viewer")
    assert save(client, name="one", status="failed").status_code == 303
    assert save(client, name="two", status="running").status_code == 303
    third = save(client, name="three", status="paused")
    assert third.status_code == 409 and "delete one first" in third.get_data(as_text=True)
    assert save(client, name="two", status="queued").status_code == 303  # replacing is not adding


def test_a_user_deletes_their_own_filter_only(client, login_as, make_user):
    other = make_user("viewer")
    theirs = SavedFilter(user_id=other.id, name="theirs", query={"status": "failed"})
    db.session.add(theirs)
    db.session.commit()
    login_as("viewer")
    save(client, name="mine", status="failed")
    mine = db.session.scalar(select(SavedFilter).where(SavedFilter.name == "mine"))
    csrf = csrf_token_from(client.get("/runs").get_data(as_text=True))
    assert client.post(f"/runs/filters/{theirs.id}/delete", data={"csrf_token": csrf},
                       headers=SAME_ORIGIN).status_code == 404
    assert client.post(f"/runs/filters/{mine.id}/delete", data={"csrf_token": csrf},
                       headers=SAME_ORIGIN).status_code == 303
    db.session.expire_all()
    assert [row.name for row in db.session.scalars(select(SavedFilter))] == ["theirs"]
