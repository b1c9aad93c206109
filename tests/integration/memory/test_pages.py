"""/memory pages: viewers read, operators delete entries, admins flush after a confirmation."""
from __future__ import annotations

from tests.conftest import csrf_token_from


def seed(db, store):
    store.put("workflow:digest", "small", {"text": "hi <b>there</b>"})
    store.put("workflow:digest", "large", "x" * 70_000)
    db.session.commit()


def test_a_viewer_sees_tiers_namespaces_and_folded_values_but_no_buttons(client, db, store, login_as):
    seed(db, store)
    login_as("viewer")
    page = client.get("/memory").get_data(as_text=True)
    assert 'data-testid="tier-l1"' in page and 'data-testid="tier-l4"' in page
    assert 'data-namespace="workflow:digest"' in page
    assert "Reset statistics" not in page

    entries = client.get("/memory/ns/workflow:digest").get_data(as_text=True)
    assert "<details><summary>show</summary>" in entries
    assert "hi &lt;b&gt;there&lt;/b&gt;" in entries, "values are escaped"
    assert "in L4; read it with the API" in entries
    assert "Delete</button>" not in entries and "Flush" not in entries


def test_the_tier_cards_poll_as_a_fragment(client, db, store, login_as):
    login_as("viewer")
    response = client.get("/memory", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="memory-tiers"')
    assert response.headers["Cache-Control"] == "no-store"


def test_an_operator_deletes_an_entry_from_the_page(client, db, store, login_as):
    seed(db, store)
    login_as("operator")
    token = csrf_token_from(client.get("/memory/ns/workflow:digest").get_data(as_text=True))
    response = client.post("/memory/ns/workflow:digest/entries/small/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert store.get("workflow:digest", "small") is None
    assert store.get("workflow:digest", "large") is not None


def test_an_admin_flushes_a_namespace_after_confirming(client, db, store, login_as):
    seed(db, store)
    store.put("global", "other", 1)
    db.session.commit()
    login_as("admin")
    confirm = client.get("/memory/ns/workflow:digest/flush").get_data(as_text=True)
    assert "Flush 2 entries" in confirm
    response = client.post("/memory/ns/workflow:digest/flush", data={"csrf_token": csrf_token_from(confirm)})
    assert response.status_code == 302
    assert store.get("workflow:digest", "small") is None and store.get("global", "other").value == 1
    assert "Flushed workflow:digest: 2 entries" in client.get("/memory").get_data(as_text=True)


def test_a_bad_namespace_in_the_address_is_a_clear_error(client, db, store, login_as):
    login_as("viewer")
    assert client.get("/memory/ns/nowhere").status_code == 422
