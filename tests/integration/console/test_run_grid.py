"""The runs grid: each workflow's newest runs as cells, oldest on the left, read per workflow."""
from __future__ import annotations

import re
from datetime import timedelta

OTHER = {"name": "other", "steps": [{"id": "a", "uses": "template.render", "with": {"template": "x"}}]}


def grid_rows(html: str) -> dict[str, list[tuple[str, str]]]:
    section = html.split('data-testid="run-grid"')[1].split("</section>")[0]
    return {slug: re.findall(r'<a class="cell status-\w+" href="/runs/(\d+)"[^>]*data-status="(\w+)"', cells)
            for slug, cells in re.findall(r'<tr data-workflow="([\w-]+)">(.*?)</tr>', section, re.S)}


def test_the_grid_shows_each_workflows_runs_oldest_first(client, login_as, make_run, make_workflow):
    other = make_workflow(OTHER)
    old = make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(hours=5))
    new = make_run("succeeded", ago=timedelta(hours=1))
    login_as("viewer")
    rows = grid_rows(client.get("/runs").get_data(as_text=True))
    assert rows["pipeline"] == [(str(old.id), "failed"), (str(new.id), "succeeded")]
    assert rows[other.slug] == []


def test_the_grid_keeps_the_newest_30_runs(client, login_as, make_run):
    from webapp.console.run_grid import GRID_RUNS

    made = [make_run("succeeded", ago=timedelta(minutes=40 - i)) for i in range(GRID_RUNS + 3)]
    login_as("viewer")
    cells = grid_rows(client.get("/runs").get_data(as_text=True))["pipeline"]
    assert [run_id for run_id, _ in cells] == [str(run.id) for run in made[3:]]


def test_filtering_by_workflow_narrows_the_grid_and_says_each_row_in_words(client, login_as, make_run,
                                                                          make_workflow):
    make_workflow(OTHER)
    make_run("failed", ["succeeded", "failed", "skipped"])
    make_run("succeeded")
    make_run("succeeded")
    login_as("viewer")
    html = client.get("/runs?workflow=pipeline").get_data(as_text=True)
    assert list(grid_rows(html)) == ["pipeline"]
    assert '<span class="visually-hidden">2 succeeded, 1 failed</span>' in html
