"""`flask workflows run` and `flask reconcile` as real subprocesses."""
import json

from webapp.runs.service import get_run


def test_workflows_run_with_params_waits_for_the_run_and_prints_it(db, workers, make_workflow, flask_cli):
    make_workflow({"name": "cli-run", "params": {"n": {"type": "integer", "required": True}, "who": {"type": "string"}},
                   "steps": [{"id": "say", "uses": "template.render",
                              "with": {"template": "{{ params.who }} x{{ params.n }}"}}]})
    workers.start(1)
    result = flask_cli("workflows", "run", "cli-run", "--param", "n=2", "--param", "who=ann",
                       "--wait", "--timeout", "60")
    assert result.returncode == 0, result.stderr + workers.logs()
    run = json.loads(result.stdout)["run"]
    assert run["status"] == "succeeded" and run["params"] == {"n": 2, "who": "ann"}
    assert run["steps"][0]["output"] == "ann x2"


def test_workflows_run_reports_bad_params_and_unknown_workflows(db, make_workflow, flask_cli):
    make_workflow({"name": "cli-strict", "params": {"n": {"type": "integer", "required": True}},
                   "steps": [{"id": "a", "uses": "template.render", "with": {"template": "a"}}]})
    bad = flask_cli("workflows", "run", "cli-strict", "--param", "n=two")
    assert bad.returncode != 0 and "n: must be integer" in bad.stderr
    assert "not NAME=VALUE" in flask_cli("workflows", "run", "cli-strict", "--param", "n").stderr
    assert "no workflow 'nope'" in flask_cli("workflows", "run", "nope").stderr


def test_flask_reconcile_requeues_a_step_whose_job_redis_lost(db, redis, make_workflow, flask_cli):
    from webapp.runs import actions

    make_workflow({"name": "cli-lost", "steps": [{"id": "a", "uses": "template.render", "with": {"template": "a"}}]})
    run = actions.trigger_run("cli-lost", {}, None)[0]
    redis.flushdb()
    result = flask_cli("reconcile", "--grace", "0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["requeued"] == 1
    assert redis.exists(f"rq:job:{get_run(run.id).step('a').rq_job_id}")


def test_the_shipped_example_imports_and_runs_to_success(db, workers, flask_cli):
    from tests.conftest import ROOT

    imported = flask_cli("workflows", "import", str(ROOT / "examples" / "hello.json"))
    assert imported.returncode == 0, imported.stderr
    workers.start(1)
    result = flask_cli("workflows", "run", "hello", "--param", "name=Ada", "--wait", "--timeout", "60")
    assert result.returncode == 0, result.stderr + workers.logs()
    run = json.loads(result.stdout)["run"]
    assert run["status"] == "succeeded" and "for Ada:" in run["steps"][-1]["output"]
    assert run["cost_total"] != "0"
