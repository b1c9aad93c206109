"""``flask workflows import FILE``: JSON or YAML, idempotent, every problem printed."""
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from webapp.runs.service import get_run, run_json
from webapp.steps.llm_providers import count_tokens
from webapp.steps.python_functions import count_words
from webapp.workflows.models import Workflow, WorkflowVersion

ROOT = Path(__file__).resolve().parents[2]


def versions(db, slug):
    db.session.expire_all()
    return db.session.scalars(select(WorkflowVersion.version).join(Workflow).where(Workflow.slug == slug)
                              .order_by(WorkflowVersion.version)).all()


def test_importing_the_shipped_example_twice_makes_one_version(db, flask_cli):
    first = flask_cli("workflows", "import", str(ROOT / "examples" / "hello.json"))
    second = flask_cli("workflows", "import", str(ROOT / "examples" / "hello.json"))
    assert first.returncode == 0 and "Created workflow hello (version 1)." in first.stdout, first.stderr
    assert second.returncode == 0 and "Workflow hello is unchanged (version 1)." in second.stdout
    assert versions(db, "hello") == [1]


def test_a_changed_file_becomes_the_next_version(app, db, tmp_path):
    path = tmp_path / "flow.yaml"
    path.write_text("name: flow\nsteps:\n  - {id: a, uses: control.sleep, with: {seconds: 0}}\n")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["workflows", "import", str(path)]).exit_code == 0
    path.write_text("name: flow\nsteps:\n  - {id: a, uses: control.sleep, with: {seconds: 1}}\n")
    result = runner.invoke(args=["workflows", "import", str(path)])
    assert result.exit_code == 0 and "Updated workflow flow to version 2." in result.output
    assert versions(db, "flow") == [1, 2]


def test_an_invalid_file_prints_every_problem_and_fails(app, db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "bad", "steps": [{"id": "a", "uses": "nope"},
                                                         {"id": "b", "uses": "control.fail", "needs": ["a", "c"]}]}))
    result = app.test_cli_runner().invoke(args=["workflows", "import", str(path)])
    assert result.exit_code == 1
    assert "step a, uses: unknown step kind 'nope'" in result.output
    assert "step b, needs[1]: refers to an unknown step 'c'" in result.output
    assert db.session.scalars(select(Workflow)).all() == []


def test_a_plugin_kind_named_in_step_plugins_can_be_imported(db, flask_cli, tmp_path):
    path = tmp_path / "shout.json"
    path.write_text(json.dumps({"name": "shout", "steps": [{"id": "s", "uses": "test.shout", "with": {"text": "a"}}]}))
    without = flask_cli("workflows", "import", str(path))
    with_plugin = flask_cli("workflows", "import", str(path),
                            extra_env={"STEP_PLUGINS": "tests.integration.step_plugin"})
    assert without.returncode == 1 and "unknown step kind 'test.shout'" in without.stderr
    assert with_plugin.returncode == 0, with_plugin.stderr


def test_the_shipped_example_runs_offline_to_the_end_with_a_real_worker(db, redis, flask_cli):
    """The newcomer's path: import the example, trigger it, let a worker run it (burst mode)."""
    assert flask_cli("workflows", "import", str(ROOT / "examples" / "hello.json")).returncode == 0
    triggered = flask_cli("workflows", "run", "hello", "--param", "name=Ada")
    assert triggered.returncode == 0, triggered.stderr
    run_id = json.loads(triggered.stdout)["run"]["id"]
    worker = flask_cli("worker", "--burst", timeout=120)
    assert worker.returncode == 0, worker.stderr

    db.session.expire_all()
    run = run_json(get_run(run_id))
    steps = {step["step_id"]: step for step in run["steps"]}
    assert run["status"] == "succeeded", run
    assert steps["greet"]["output"] == "Hello, Ada! Tell me something about workflows."
    answer = steps["answer"]["output"]
    assert answer["tokens_in"] == count_tokens(steps["greet"]["output"]) and Decimal(steps["answer"]["cost"]) > 0
    assert steps["count"]["output"] == count_words(answer["text"])
    assert steps["report"]["output"] == (f"local-small answered {steps['count']['output']['words']} words for Ada: "
                                         f"{answer['text']}")
