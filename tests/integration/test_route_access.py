"""Every route declares who may call it, and anonymous callers are kept out (docs/security.md §23)."""
import re

import pytest

PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def concrete(rule: str) -> str:
    return PLACEHOLDER.sub("1", rule)


def routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_route_declares_its_access(app):
    undeclared = [rule.rule for rule in routes(app) if not hasattr(app.view_functions[rule.endpoint], "access")]
    assert undeclared == []


def test_anonymous_callers_are_refused_by_every_protected_route(app, client):
    for rule in routes(app):
        if app.view_functions[rule.endpoint].access == "public":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(concrete(rule.rule), method=method, headers={"Sec-Fetch-Site": "same-origin"})
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, rule.rule)
                assert response.json["error"]["code"] == "unauthenticated"
            elif method == "GET":
                assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule
            else:
                # Unsafe page methods stop at CSRF (400) or the login redirect; never reach the view.
                assert response.status_code in (302, 400), (method, rule.rule)


@pytest.mark.parametrize("path", ["/api/v3/health/live", "/login"])
def test_public_routes_answer_anonymous_callers(client, path):
    assert client.get(path).status_code == 200


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# The only state a viewer may change is their own sign-in: these routes are the whole list,
# plus dry runs that store nothing. A new viewer-level POST must be added here deliberately.
VIEWER_WRITABLE = {
    "/logout", "/account/password", "/account/sessions/<session_id>/revoke",
    "/api/v3/auth/logout", "/api/v3/auth/sessions/<session_id>",
    "/runs/filters", "/runs/filters/<int:filter_id>/delete",  # the viewer's own saved filters
    "/api/v3/workflows/validate",
    "/api/v3/workflows/<slug>/estimate", "/costs/estimate/<slug>",
}


def test_viewer_level_routes_that_change_state_only_touch_the_viewers_own_account(app):
    writable = {rule.rule for rule in routes(app)
                if app.view_functions[rule.endpoint].access == "viewer" and rule.methods & UNSAFE}
    assert writable <= VIEWER_WRITABLE


def test_a_viewer_is_refused_by_every_operator_and_admin_route(app, client, login_as, api_headers):
    from tests.conftest import csrf_token_from

    headers, _ = api_headers("viewer")
    login_as("viewer")
    page_headers = {"X-CSRFToken": csrf_token_from(client.get("/").get_data(as_text=True)),
                    "Sec-Fetch-Site": "same-origin"}
    checked = 0
    for rule in routes(app):
        if app.view_functions[rule.endpoint].access not in ("operator", "admin"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            api = rule.rule.startswith("/api/")
            response = client.open(concrete(rule.rule), method=method, headers=headers if api else page_headers)
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            checked += 1
    assert checked > 0
