"""The console pages: list, new with live validation, detail with the critical path, Execute."""
from __future__ import annotations

import re

from tests.conftest import csrf_token_from
from webapp.decomposition import service
from webapp.extensions import db

TREE = '{"tasks": [{"id": "a", "uses": "template.render", "with": {"template": "x"}},' \
       ' {"id": "b", "uses": "control.sleep", "with": {"seconds": 0}, "timeout": 9, "depends_on": ["a"]},' \
       ' {"id": "c", "uses": "template.render", "with": {"template": "y"}, "timeout": 3, "depends_on": ["a"]}]}'


def form(client, path="/decompositions/new"):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def test_live_validation_lists_each_problem_by_task_or_shows_the_plan(client, login_as):
    login_as("operator")
    token = form(client)
    bad = client.post("/decompositions/validate", data={"csrf_token": token, "goal": "g", "strategy": "explicit",
                                                         "input": '{"tasks": [{"id": "a", "uses": "nope"}]}'})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'data-testid="invalid"' in html and "<html" not in html
    assert re.search(r'data-task="a">.*unknown step kind', html, re.DOTALL)
    good = client.post("/decompositions/validate", data={"csrf_token": token, "goal": "g", "strategy": "explicit",
                                                          "input": TREE}).get_data(as_text=True)
    assert 'data-testid="valid"' in good and 'data-testid="max-parallelism">2<' in good
    assert 'class="dag-node status-critical" data-step="b"' in good


def test_saving_goes_to_the_detail_page_with_levels_estimates_and_execute(client, login_as):
    login_as("operator")
    response = client.post("/decompositions/new", data={"csrf_token": form(client), "goal": "three tasks",
                                                         "strategy": "explicit", "input": TREE})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="critical-path"><code>a</code> → <code>b</code>' in page
    assert page.count('data-testid="level-row"') == 2 and 'data-testid="execute"' in page
    assert "declared timeout" in page and 'data-testid="no-budgets"' in page
    listed = client.get("/decompositions").get_data(as_text=True)
    assert "three tasks" in listed and 'data-testid="decomposition-row"' in listed


def test_an_invalid_save_comes_back_422_with_the_problems(client, login_as):
    login_as("operator")
    response = client.post("/decompositions/new", data={"csrf_token": form(client), "goal": "g",
                                                         "strategy": "explicit", "input": "{"})
    assert response.status_code == 422 and 'data-testid="save-problem"' in response.get_data(as_text=True)


def test_execute_from_the_page_goes_to_the_run(client, login_as, redis):
    user = login_as("operator")
    decomposition = service.create("g", "explicit", TREE, actor=user)
    db.session.commit()
    token = form(client, f"/decompositions/{decomposition.id}")
    response = client.post(f"/decompositions/{decomposition.id}/execute", data={"csrf_token": token})
    assert response.status_code == 302 and "/runs/" in response.headers["Location"]
    page = client.get(f"/decompositions/{decomposition.id}").get_data(as_text=True)
    assert 'data-testid="run-link"' in page and 'data-testid="execute"' not in page


def test_viewers_see_the_pages_but_not_new_or_execute(client, login_as, make_user):
    decomposition = service.create("g", "explicit", TREE, actor=make_user("operator"))
    db.session.commit()
    login_as("viewer")
    assert client.get("/decompositions").status_code == 200
    assert client.get("/decompositions?before=99999999999").status_code == 200  # past the id range: page one
    page = client.get(f"/decompositions/{decomposition.id}").get_data(as_text=True)
    assert 'data-testid="graph"' in page and 'data-testid="execute"' not in page
    assert client.get("/decompositions/new").status_code == 403
