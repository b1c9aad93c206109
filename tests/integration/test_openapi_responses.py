"""Every operation's success response, as the server really answers it with real data, matches
the schema the OpenAPI document gives it.

One scenario drives every /api/v3 operation through the Flask test client: workflows created
and changed, runs executed step by step in this process (real attempts, outputs and cost
records), paused, held by a budget, resumed, retried and cancelled, checkpoints, decompositions,
webhooks and their deliveries, memory entries, a job that really failed in a worker, the auth
flow from registration to logout. Each answer is validated (JSON Schema 2020-12, formats
checked) against the document's schema for its status; the test fails on a status the document
does not list and, at the end, on any documented operation the scenario never saw succeed.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal

import jsonschema
import pytest
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD
from tests.integration.costs.test_enforcement import SPENDER
from tests.integration.runs.conftest import wait_until, workers  # noqa: F401 (workers: a fixture)
from webapp.api.response_schemas import COMPONENTS
from webapp.costs.service import create_budget
from webapp.extensions import db
from webapp.mail.models import OutboxMail
from webapp.queues import enqueue
from webapp.runs.execution import claim, execute_step
from webapp.runs.models import StepRun

PIPELINE = {"name": "contract", "params": {"who": {"type": "string", "default": "world"}}, "steps": [
    {"id": "fetch", "uses": "template.render", "with": {"template": "hello {{ params.who }}"}},
    {"id": "think", "uses": "llm.complete", "needs": ["fetch"],
     "with": {"model": "local-small", "prompt": "{{ steps.fetch.output }}"}},
    {"id": "check", "uses": "control.fail", "needs": ["think"], "with": {"times": 1, "message": "boom"}},
    {"id": "approve", "uses": "gate.approval", "needs": ["check"], "with": {"prompt": "Ship it?"}},
]}
MAP_REDUCE = {"goal": "digest three notes", "strategy": "template",
              "input": {"pattern": "map_reduce", "params": {"items": ["a", "b", "c"]}}}
SUCCESS = re.compile(r"^2\d\d$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_aware_time(value) -> bool:
    """RFC 3339 as the server writes it: a full ISO 8601 time with its offset (``Z`` or ``+00:00``)."""
    return not isinstance(value, str) or ("T" in value and datetime.fromisoformat(value).tzinfo is not None)



class Contract:
    """Calls operations by their documented path and checks each answer against its schema."""

    def __init__(self, client, document) -> None:
        self.client = client
        self.document = document
        self.succeeded: set[tuple[str, str]] = set()
        self.failures: list[str] = []

    def call(self, method: str, template: str, headers=None, body=None, query=None, also=(), **path):
        """``also``: statuses besides 2xx that this call may answer (a probe's 503)."""
        url = template.format(**path)
        response = self.client.open(url, method=method.upper(), headers=headers, json=body, query_string=query)
        name = f"{method.upper()} {template} -> {response.status_code}"
        operation = self.document["paths"][template][method]
        status = str(response.status_code)
        if not SUCCESS.match(status) and response.status_code not in also:
            raise AssertionError(f"{name}: {response.get_data(as_text=True)[:500]}")
        documented = operation["responses"].get(status)
        if documented is None:
            self.failures.append(f"{name}: status not documented")
            return response
        content = documented.get("content")
        if response.status_code == 204 or not response.data:
            if content:
                self.failures.append(f"{name}: empty body, but the document gives it content")
        elif not content or "schema" not in content.get("application/json", {}):
            self.failures.append(f"{name}: no schema for the body")
        else:
            schema = {**content["application/json"]["schema"], "components": self.document["components"]}
            validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
            for error in validator.iter_errors(response.json):
                self.failures.append(f"{name}: {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
        if SUCCESS.match(status):
            self.succeeded.add((template, method))
        return response


def drive(run_id: int, rounds: int = 10) -> None:
    """Execute the run's queued steps in this process, as a worker would, until none is queued."""
    for _ in range(rounds):
        db.session.expire_all()
        queued = db.session.scalars(select(StepRun).where(StepRun.run_id == run_id, StepRun.status == "queued")
                                    .order_by(StepRun.position)).all()
        if not queued:
            return
        for step in queued:
            execute_step(step.id, step.rq_job_id)


@pytest.fixture
def contract(client):
    return Contract(client, client.get("/api/v3/openapi.json").json)


@pytest.fixture
def roles(api_headers):
    return {role: api_headers(role) for role in ("viewer", "operator", "admin")}


def workflows_and_runs(c: Contract, viewer, operator, admin) -> dict:
    c.call("post", "/api/v3/workflows/validate", viewer, {"definition": PIPELINE})
    c.call("post", "/api/v3/workflows/validate", viewer, {"definition": {"name": "bad", "steps": []}})
    c.call("post", "/api/v3/workflows", operator, {"definition": PIPELINE})
    changed = {**PIPELINE, "description": "second version", "max_concurrent_runs": 5}
    c.call("put", "/api/v3/workflows/{slug}", operator, {"definition": changed}, slug="contract")
    c.call("get", "/api/v3/workflows", viewer, query={"limit": 1})
    c.call("get", "/api/v3/workflows/{slug}", viewer, slug="contract")
    c.call("get", "/api/v3/workflows/{slug}/versions", viewer, slug="contract")
    c.call("post", "/api/v3/workflows/{slug}/estimate", viewer, {"params": {"who": "you"}}, slug="contract")

    run = c.call("post", "/api/v3/workflows/{slug}/runs", operator, {"params": {"who": "you"}, "idempotency_key": "k1"},
                 slug="contract").json["run"]
    c.call("post", "/api/v3/workflows/{slug}/runs", operator, {"idempotency_key": "k1"}, slug="contract")  # 200
    drive(run["id"])  # fetch, think succeed; check fails once: the run fails
    c.call("post", "/api/v3/runs/{run_id}/checkpoints", operator, {"note": "after the failure"}, run_id=run["id"])
    c.call("post", "/api/v3/runs/{run_id}/steps/{step_id}/retry", operator, {}, run_id=run["id"], step_id="check")
    drive(run["id"])  # check succeeds now: the gate waits
    c.call("post", "/api/v3/runs/{run_id}/steps/{step_id}/approve", operator, {"approved": True, "comment": "ok"},
           run_id=run["id"], step_id="approve")
    c.call("get", "/api/v3/runs/{run_id}", viewer, run_id=run["id"])
    c.call("get", "/api/v3/runs", viewer, query={"limit": 1})
    c.call("get", "/api/v3/runs/{run_id}/budget", viewer, run_id=run["id"])
    checkpoints = c.call("get", "/api/v3/runs/{run_id}/checkpoints", viewer, run_id=run["id"]).json["items"]
    c.call("get", "/api/v3/checkpoints/{checkpoint_id}", viewer, checkpoint_id=checkpoints[-1]["id"])

    failed = c.call("post", "/api/v3/workflows/{slug}/runs", operator, {}, slug="contract").json["run"]
    drive(failed["id"])
    c.call("post", "/api/v3/runs/{run_id}/retry", operator, {}, run_id=failed["id"])
    c.call("post", "/api/v3/runs/{run_id}/cancel", operator, {}, run_id=failed["id"])
    mine = [item for item in c.call("get", "/api/v3/runs/{run_id}/checkpoints", viewer,
                                    run_id=failed["id"]).json["items"]]
    c.call("post", "/api/v3/checkpoints/{checkpoint_id}/restore", operator, {}, checkpoint_id=mine[0]["id"])
    c.call("post", "/api/v3/runs/{run_id}/pause", operator, {"reason": "look first"}, run_id=failed["id"])
    c.call("post", "/api/v3/runs/{run_id}/resume", operator, {}, run_id=failed["id"])
    c.call("post", "/api/v3/runs/{run_id}/cancel", operator, {}, run_id=failed["id"])
    extra = c.call("post", "/api/v3/runs/{run_id}/checkpoints", operator, {}, run_id=failed["id"]).json["checkpoint"]
    c.call("delete", "/api/v3/checkpoints/{checkpoint_id}", operator, checkpoint_id=extra["id"])

    # A workflow named "validate" is what GET, PUT and DELETE /workflows/validate reach.
    c.call("post", "/api/v3/workflows", operator, {"definition": {**PIPELINE, "name": "validate"}})
    c.call("get", "/api/v3/workflows/validate", viewer)
    c.call("put", "/api/v3/workflows/validate", operator, {"definition": {**PIPELINE, "name": "validate",
                                                                            "description": "changed"}})
    c.call("delete", "/api/v3/workflows/validate", operator)
    return run


def budgets_and_costs(c: Contract, viewer, operator, admin, admin_user, run) -> None:
    c.call("post", "/api/v3/prices", admin, {"model": "contract-model", "input": "0.5", "output": "1.25"})
    c.call("get", "/api/v3/prices", viewer)
    budget = c.call("post", "/api/v3/budgets", admin, {"name": "monthly", "scope": "global", "period": "month",
                                                         "limit": "100", "on_exceed": "alert",
                                                         "soft_threshold_pct": 1}).json["budget"]
    c.call("get", "/api/v3/budgets", viewer)
    c.call("get", "/api/v3/budgets/{budget_id}", viewer, budget_id=budget["id"])
    c.call("patch", "/api/v3/budgets/{budget_id}", admin, {"limit": "200"}, budget_id=budget["id"])
    c.call("get", "/api/v3/budgets/{budget_id}/usage", viewer, budget_id=budget["id"])
    c.call("get", "/api/v3/budgets/{budget_id}/alerts", viewer, budget_id=budget["id"])
    for group in ("day", "workflow", "user", "model"):
        c.call("get", "/api/v3/costs/summary", viewer, query={"group_by": group})
    c.call("get", "/api/v3/costs/records", viewer, query={"run": run["id"], "limit": 1})

    c.client.post("/api/v3/workflows", headers=operator, json={"definition": SPENDER})
    create_budget(scope="workflow", scope_id="spender", period="day", limit=Decimal("0.00001"), on_exceed="pause",
                  actor=admin_user, name="tiny")
    db.session.commit()
    held = c.call("post", "/api/v3/workflows/{slug}/runs", operator, {}, slug="spender").json["run"]
    step = db.session.scalars(select(StepRun).where(StepRun.run_id == held["id"], StepRun.step_key == "think")).one()
    assert claim(step.id, step.rq_job_id) is None  # refused by the budget: the run is held
    c.call("get", "/api/v3/runs/{run_id}/budget", viewer, run_id=held["id"])
    c.call("post", "/api/v3/runs/{run_id}/resume-over-budget", admin, {}, run_id=held["id"])
    c.call("delete", "/api/v3/budgets/{budget_id}", admin, budget_id=budget["id"])


def decompositions(c: Contract, viewer, operator) -> None:
    c.call("post", "/api/v3/decompositions/validate", operator, MAP_REDUCE)
    c.call("post", "/api/v3/decompositions/validate", operator, {**MAP_REDUCE, "strategy": "explicit",
                                                                 "input": {"tasks": [{"id": "a", "uses": "nope"}]}})
    made = c.call("post", "/api/v3/decompositions", operator, MAP_REDUCE).json["decomposition"]
    c.call("get", "/api/v3/decompositions", viewer, query={"limit": 1})
    c.call("get", "/api/v3/decompositions/{decomposition_id}", viewer, decomposition_id=made["id"])
    c.call("get", "/api/v3/decompositions/{decomposition_id}/plan", viewer, decomposition_id=made["id"])
    c.call("post", "/api/v3/decompositions/{decomposition_id}/execute", operator, {"name": "digest"},
           decomposition_id=made["id"])
    c.call("get", "/api/v3/decompositions/{decomposition_id}", viewer, decomposition_id=made["id"])
    draft = c.call("post", "/api/v3/decompositions", operator, {**MAP_REDUCE, "draft": True}).json["decomposition"]
    c.call("put", "/api/v3/decompositions/{decomposition_id}", operator, {**MAP_REDUCE, "goal": "digest four"},
           decomposition_id=draft["id"])
    c.call("post", "/api/v3/decompositions/{decomposition_id}/plan", operator, {}, decomposition_id=draft["id"])


def webhooks(c: Contract, admin) -> None:
    hook = c.call("post", "/api/v3/webhooks", admin, {"url": "https://example.com/hook", "events": ["run.*"],
                                                      "description": "contract"}).json["webhook"]
    c.call("get", "/api/v3/webhooks", admin)
    c.call("get", "/api/v3/webhooks/{webhook_id}", admin, webhook_id=hook["id"])
    c.call("patch", "/api/v3/webhooks/{webhook_id}", admin, {"description": "changed"}, webhook_id=hook["id"])
    c.call("post", "/api/v3/webhooks/{webhook_id}/rotate-secret", admin, {}, webhook_id=hook["id"])
    delivery = c.call("post", "/api/v3/webhooks/{webhook_id}/ping", admin, {}, webhook_id=hook["id"]).json["delivery"]
    c.call("get", "/api/v3/webhooks/{webhook_id}/deliveries", admin, webhook_id=hook["id"])
    c.call("post", "/api/v3/webhooks/deliveries/{delivery_id}/redeliver", admin, {}, delivery_id=delivery["id"])
    c.call("delete", "/api/v3/webhooks/{webhook_id}", admin, webhook_id=hook["id"])


def memory(c: Contract, viewer, operator, admin) -> None:
    for key, value in (("greeting", {"text": "hello"}), ("count", 3)):
        c.call("put", "/api/v3/memory/{namespace}/entries/{key}", operator, {"value": value, "ttl": 600},
               namespace="global", key=key)
    c.call("get", "/api/v3/memory/{namespace}/entries/{key}", viewer, namespace="global", key="greeting")
    c.call("get", "/api/v3/memory/{namespace}/entries", viewer, query={"limit": 1}, namespace="global")
    c.call("get", "/api/v3/memory/namespaces", viewer)
    c.call("get", "/api/v3/memory/stats", viewer)
    c.call("delete", "/api/v3/memory/{namespace}/entries/{key}", operator, namespace="global", key="count")
    c.call("post", "/api/v3/memory/{namespace}/flush", admin, {}, namespace="global")
    c.call("post", "/api/v3/memory/stats/reset", admin, {})


def queues_and_health(c: Contract, viewer, admin, pool, redis) -> None:
    redis.flushdb()  # the step jobs this scenario ran in-process must not run again in the worker
    jobs = [enqueue("json.loads", "this is not json") for _ in range(2)]
    pool.start(1)
    wait_until(lambda: c.call("get", "/api/v3/queues", viewer).json["items"][0]["failed"] == 2, what="two failures")
    assert c.call("get", "/api/v3/workers", viewer).json["items"]
    c.call("get", "/api/v3/queues/{name}/failed", viewer, name="default")
    c.call("post", "/api/v3/queues/{name}/failed/{job_id}/requeue", admin, {}, name="default", job_id=jobs[0].id)
    c.call("delete", "/api/v3/queues/{name}/failed/{job_id}", admin, name="default", job_id=jobs[1].id)
    for headers in (None, viewer):  # statuses only, and with details
        c.call("get", "/api/v3/health/live", headers)
        c.call("get", "/api/v3/health/ready", headers, also=(503,))
        c.call("get", "/api/v3/health/system", headers, also=(503,))
        c.call("get", "/api/v3/health/checks/{name}", headers, also=(503,), name="database")
        c.call("get", "/api/v3/health/checks/{name}", headers, also=(503,), name="workers")
    c.call("get", "/api/v3/health/history", viewer, query={"limit": 5})


def users_and_audit(c: Contract, admin, admin_user) -> None:
    user = c.call("post", "/api/v3/users", admin, {"email": "contract.user@example.com", "password": TEST_PASSWORD,
                                                   "name": "Contract", "role": "viewer"}).json["user"]
    c.call("get", "/api/v3/users", admin, query={"limit": 1})
    c.call("get", "/api/v3/users/{user_id}", admin, user_id=user["id"])
    c.call("patch", "/api/v3/users/{user_id}", admin, {"role": "operator"}, user_id=user["id"])
    c.call("post", "/api/v3/users/{user_id}/lock", admin, {"minutes": 5, "reason": "contract"}, user_id=user["id"])
    c.call("post", "/api/v3/users/{user_id}/unlock", admin, {}, user_id=user["id"])
    c.call("post", "/api/v3/users/{user_id}/revoke-sessions", admin, {}, user_id=user["id"])
    c.call("get", "/api/v3/audit", admin, query={"limit": 5})
    c.call("get", "/api/v3/events", admin, query={"limit": 5})
    c.call("get", "/api/v3/openapi.json")


def auth(c: Contract, app) -> None:
    app.config["REGISTRATION_MODE"] = "verify"
    c.call("post", "/api/v3/auth/register", None, {"email": "new.person@example.com", "password": TEST_PASSWORD,
                                                   "name": "New Person"})
    c.call("post", "/api/v3/auth/resend-verification", None, {"email": "new.person@example.com"})
    mail = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
    token = re.search(r"verify-email: (\S+)", mail.body)[1]
    c.call("post", "/api/v3/auth/verify-email", None, {"token": token})
    app.config["REGISTRATION_MODE"] = "open"
    c.call("post", "/api/v3/auth/register", None, {"email": "open.person@example.com", "password": TEST_PASSWORD})
    tokens = c.call("post", "/api/v3/auth/login", None, {"email": "new.person@example.com",
                                                         "password": TEST_PASSWORD}).json
    refreshed = c.call("post", "/api/v3/auth/refresh", None, {"refresh_token": tokens["refresh_token"]}).json
    mine = {"Authorization": f"Bearer {refreshed['access_token']}"}
    c.call("get", "/api/v3/auth/me", mine)
    second = c.client.post("/api/v3/auth/login", json={"email": "new.person@example.com", "password": TEST_PASSWORD})
    sessions = c.call("get", "/api/v3/auth/sessions", mine).json["items"]
    other = next(row["id"] for row in sessions if not row["current"])
    assert second.status_code == 200
    c.call("delete", "/api/v3/auth/sessions/{session_id}", mine, session_id=other)
    c.call("post", "/api/v3/auth/logout", mine)


def test_every_operation_answers_with_what_its_schema_says(app, client, contract, roles, workers, redis,  # noqa: F811
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", app.config["REGISTRATION_MODE"])
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ("example.com",))
    (viewer, _), (operator, _), (admin, admin_user) = roles["viewer"], roles["operator"], roles["admin"]
    run = workflows_and_runs(contract, viewer, operator, admin)
    budgets_and_costs(contract, viewer, operator, admin, admin_user, run)
    decompositions(contract, viewer, operator)
    webhooks(contract, admin)
    memory(contract, viewer, operator, admin)
    queues_and_health(contract, viewer, admin, workers, redis)
    users_and_audit(contract, admin, admin_user)
    contract.call("delete", "/api/v3/workflows/{slug}", operator, slug="contract")
    auth(contract, app)

    assert contract.failures == []
    documented = {(path, method) for path, methods in contract.document["paths"].items() for method in methods
                  if not path.startswith("/api/v3/_test/")}  # the test app's own failure routes
    assert sorted(documented - contract.succeeded) == []


def test_every_operation_documents_its_success_answers_each_with_a_schema_and_an_example_it_accepts(contract):
    document = contract.document
    for path, methods in document["paths"].items():
        if path.startswith("/api/v3/_test/"):
            continue
        for method, operation in methods.items():
            name = f"{method.upper()} {path}"
            success = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
            assert success and "2XX" not in success, name
            for code, answer in success.items():
                if code == "204":
                    assert "content" not in answer, name
                    continue
                body = answer["content"]["application/json"]
                assert body["schema"]["$ref"].startswith("#/components/schemas/"), name
                schema = {**body["schema"], "components": document["components"]}
                jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(body["example"])


def test_lists_are_pages_with_a_cursor_and_objects_allow_fields_added_later(contract):
    schemas = contract.document["components"]["schemas"]
    runs = contract.document["paths"]["/api/v3/runs"]["get"]["responses"]["200"]["content"]["application/json"]
    page = schemas[runs["schema"]["$ref"].rsplit("/", 1)[1]]
    assert page["required"] == ["items", "next_cursor"]
    assert page["properties"]["next_cursor"]["type"] == ["string", "null"]
    assert not [name for name in COMPONENTS if '"additionalProperties": false' in json.dumps(schemas[name])]
    later = {**contract.client.get("/api/v3/health/live").json, "added_by_a_later_release": 1}
    jsonschema.validate(later, {**schemas["HealthReport"], "components": contract.document["components"]})
