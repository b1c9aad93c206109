"""Console bugs found by trying it as a new user would: each stays fixed."""
from __future__ import annotations

from decimal import Decimal

RLO = "\u202e"


def test_favicon_is_served_on_its_well_known_path(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"


def test_pages_link_the_svg_icon(client, login_as):
    login_as("viewer")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").get_data(as_text=True)


def test_register_fields_carry_no_aria_invalid_until_they_are_invalid(client):
    html = client.get("/register").get_data(as_text=True)
    assert "aria-invalid" not in html
    assert 'name="email"' in html


def test_a_right_to_left_override_in_a_name_is_isolated_on_the_users_page(client, login_as, make_user):
    make_user("viewer", name=f"{RLO}evil name")
    login_as("admin")
    html = client.get("/users").get_data(as_text=True)
    assert f"<bdi>{RLO}evil name</bdi>" in html


def test_run_costs_read_with_fixed_decimals_not_an_exponent(client, login_as, make_run):
    from webapp.extensions import db

    run = make_run("succeeded")
    run.cost_total = Decimal("10.00")
    db.session.commit()
    login_as("viewer")
    for path in ("/runs", f"/runs/{run.id}", "/workflows/pipeline"):
        html = client.get(path).get_data(as_text=True)
        assert "1E+1" not in html, path
        assert "$10.0000" in html, path


def test_navigation_is_grouped_operate_resources_admin_account(client, login_as):
    login_as("admin")
    html = client.get("/").get_data(as_text=True)
    positions = [html.index(f'id="nav-{group}"') for group in ("operate", "resources", "admin", "account")]
    assert positions == sorted(positions)
    assert html.index('href="/runs"') < positions[1] < html.index('href="/health"') < positions[2]


def test_a_viewer_sees_none_of_the_admin_only_links(client, login_as):
    login_as("viewer")
    html = client.get("/").get_data(as_text=True)
    for path in ("/users", "/audit", "/mail"):
        assert f'href="{path}"' not in html


def test_health_sparklines_have_a_scale_and_a_tooltip_per_point(app):
    from webapp.health.panel import latency_sparkline

    history = [{"checked_at": f"2026-12-01T09:0{i}:00+00:00", "checks": {"redis": {"response_time_ms": ms}}}
               for i, ms in enumerate([2.0, 8.5, 4.25])]
    svg = str(latency_sparkline(history, "redis"))
    assert 'data-min="2.0" data-max="8.5" data-points="3"' in svg
    assert ">8.5 ms</text>" in svg and ">2.0 ms</text>" in svg
    assert svg.count('<circle class="spark-point"') == 3
    assert "<title>09:01:00 UTC: 8.5 ms</title>" in svg
    assert 'aria-label="redis latency over the last 3 checks, from 2.0 to 8.5 ms"' in svg
    assert str(latency_sparkline(history[:1], "redis")) == ""
    assert str(latency_sparkline(history, "database")) == ""


def test_triggering_with_an_integer_of_10_to_the_26_is_a_422_naming_the_param(client, make_workflow, api_headers):
    make_workflow({"name": "adder", "params": {"n": {"type": "integer", "required": True}},
                   "steps": [{"id": "sum", "uses": "python.call",
                              "with": {"function": "add", "args": ["{{ params.n }}", 1]}}]})
    headers, _ = api_headers("operator")
    response = client.post("/api/v3/workflows/adder/runs", json={"params": {"n": 10**26}}, headers=headers)
    assert response.status_code == 422
    assert "64-bit" in response.get_data(as_text=True) and '"n"' in response.get_data(as_text=True)
