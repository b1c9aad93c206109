"""A step's log lines are kept with each of its attempts, by a real worker, and the API returns them."""
from __future__ import annotations

from sqlalchemy import select

from tests.integration.runs.conftest import wait_for_run, workers  # noqa: F401  (fixture)
from webapp.runs import actions
from webapp.runs.models import StepAttempt, StepRun


def messages(attempt: StepAttempt) -> list[tuple[str, str]]:
    return [(line["level"], line["message"]) for line in attempt.logs or []]


def test_each_attempt_keeps_the_lines_its_step_logged(db, workers, make_workflow, operator,  # noqa: F811
                                                      client, api_headers):
    make_workflow({"name": "logged", "steps": [
        {"id": "flaky", "uses": "control.fail", "with": {"times": 1}, "retry": {"max": 1, "backoff": [0]}},
        {"id": "quiet", "uses": "template.render", "needs": ["flaky"], "with": {"template": "done"}},
    ]})
    workers.start(1)
    run = actions.trigger_run("logged", {}, operator)[0]
    assert wait_for_run(run.id).status == "succeeded"

    def attempts_of(step_key: str) -> list[StepAttempt]:
        return db.session.scalars(select(StepAttempt).join(StepRun, StepRun.id == StepAttempt.step_run_id)
                                  .where(StepRun.run_id == run.id, StepRun.step_key == step_key)
                                  .order_by(StepAttempt.attempt)).all()

    flaky = attempts_of("flaky")
    assert [messages(attempt) for attempt in flaky] == [
        [("warning", "attempt 1 fails on purpose")], [("info", "attempt 2 passes")]]
    assert {line["logger"] for attempt in flaky for line in attempt.logs} == {"webapp.steps.control_kinds"}
    assert [attempt.logs for attempt in attempts_of("quiet")] == [None]  # a step that logs nothing stores nothing

    headers, _ = api_headers("viewer")
    body = client.get(f"/api/v3/runs/{run.id}", headers=headers).get_json()
    step = next(step for step in body["run"]["steps"] if step["step_id"] == "flaky")
    assert [[line["message"] for line in attempt["logs"]] for attempt in step["attempts"]] == [
        ["attempt 1 fails on purpose"], ["attempt 2 passes"]]
