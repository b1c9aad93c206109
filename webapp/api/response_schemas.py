"""What each /api/v3 operation answers on success: its status codes and the JSON Schema of each
body, as ``components/schemas`` of the OpenAPI document (``webapp.api.openapi``).

The shapes are those the views' serialisers build (``service.run_json``, ``to_dict``...), and
tests/integration/test_openapi_responses.py validates a real answer of every operation against
them. Objects list as ``required`` the fields every answer carries today and allow more
(``additionalProperties`` stays open): a field added to a serialiser is not a breaking change,
and clients must ignore what they do not know. A key that is always present but may be null is
required with a nullable type. Money is a decimal string (Python ``Decimal`` notation, so small
amounts may use an exponent: ``5.000E-7``); times are ISO 8601 with their UTC offset.

``SUCCESS`` maps an endpoint to ``{status: component or None}``; None is an empty body (204).
"""
from __future__ import annotations

from typing import Any

from webapp.runs.states import PAUSE_REASONS, RUN_STATES, STEP_STATES

Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
TEXT_OR_NULL: Schema = {"type": ["string", "null"]}
INTEGER: Schema = {"type": "integer"}
INTEGER_OR_NULL: Schema = {"type": ["integer", "null"]}
NUMBER: Schema = {"type": "number"}
NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
OBJECT_OR_NULL: Schema = {"type": ["object", "null"]}
ANY: Schema = {}
TIME: Schema = {"type": "string", "format": "date-time"}
TIME_OR_NULL: Schema = {"type": ["string", "null"], "format": "date-time"}
TEXT_LIST: Schema = {"type": "array", "items": TEXT}
MONEY: Schema = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?(E[-+]?[0-9]+)?$",
                 "description": "A decimal amount as text.", "examples": ["0.01250000"]}
HEALTH_STATUS: Schema = {"type": "string", "enum": ["HEALTHY", "DEGRADED", "UNHEALTHY", "NOT_CONFIGURED"]}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def record(required: dict[str, Schema], optional: dict[str, Schema] | None = None,
           description: str | None = None) -> Schema:
    """An object with these always-present fields and these sometimes-present ones; others allowed."""
    schema: Schema = {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}
    if description:
        schema["description"] = description
    return schema


def extends(base: str, required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"allOf": [ref(base), record(required, optional)]}


def envelope(**fields: str) -> Schema:
    """``{"run": Run}``: each field holds the named component."""
    return record({field: ref(name) for field, name in fields.items()})


def items_of(name: str) -> Schema:
    return record({"items": {"type": "array", "items": ref(name)}})


def page_of(name: str) -> Schema:
    return record({"items": {"type": "array", "items": ref(name)}, "next_cursor": {
        "type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."}})


USER = record({
    "id": INTEGER, "email": TEXT, "name": TEXT, "role": {"type": "string", "enum": ["viewer", "operator", "admin"]},
    "status": TEXT, "email_verified_at": TIME_OR_NULL, "locked_until": TIME_OR_NULL, "last_login_at": TIME_OR_NULL,
    "created_at": TIME}, description="A user account, without its password hash or token material.")
RUN_SUMMARY = record({
    "id": INTEGER, "workflow": {**TEXT, "description": "The workflow's slug."}, "version": INTEGER,
    "status": {"type": "string", "enum": list(RUN_STATES)},
    "pause_reason": {"type": ["string", "null"], "enum": [*PAUSE_REASONS, None]},
    "paused_at": TIME_OR_NULL, "pause_note": TEXT_OR_NULL, "params": OBJECT, "triggered_by": INTEGER_OR_NULL,
    "idempotency_key": TEXT_OR_NULL, "created_at": TIME, "started_at": TIME_OR_NULL, "finished_at": TIME_OR_NULL,
    "cost_total": MONEY, "error": TEXT_OR_NULL, "resumed_from_checkpoint_id": INTEGER_OR_NULL,
}, description="A run without its steps.")
ATTEMPT = record({
    "attempt": INTEGER, "status": TEXT, "queue": TEXT_OR_NULL, "worker": TEXT_OR_NULL, "queued_at": TIME_OR_NULL,
    "started_at": TIME_OR_NULL, "finished_at": TIME_OR_NULL, "error": TEXT_OR_NULL, "cost": MONEY,
}, description="One attempt of a step; every attempt is kept.")
STEP = record({
    "step_id": TEXT, "uses": TEXT, "needs": TEXT_LIST, "status": {"type": "string", "enum": list(STEP_STATES)},
    "attempt": INTEGER, "started_at": TIME_OR_NULL, "finished_at": TIME_OR_NULL,
    "output": {"description": "The step's output, any JSON value; null until it succeeds."},
    "error": TEXT_OR_NULL, "cost": MONEY, "cache_hit": BOOLEAN, "saved": MONEY,
    "attempts": {"type": "array", "items": ref("Attempt")},
})
WORKFLOW = record({
    "slug": TEXT, "name": TEXT, "description": TEXT_OR_NULL, "current_version": INTEGER, "archived": BOOLEAN,
    "max_concurrent_runs": INTEGER_OR_NULL, "created_by": INTEGER_OR_NULL, "created_at": TIME, "updated_at": TIME,
}, {"definition": {**OBJECT, "description": "The current version's definition (on single-workflow answers)."}})
BUDGET_USAGE = record({
    "period_start": TIME, "period_end": TIME_OR_NULL, "spent": MONEY, "reserved": MONEY, "limit": MONEY,
    "remaining": MONEY, "currency": TEXT}, description="The budget's current period.")
BUDGET = record({
    "id": INTEGER, "name": TEXT, "label": TEXT, "scope": TEXT,
    "scope_id": {"type": ["string", "integer", "null"], "description": "A workflow's slug or a user's id."},
    "period": TEXT, "limit": MONEY, "currency": TEXT, "soft_threshold_pct": INTEGER, "on_exceed": TEXT,
    "active": BOOLEAN, "created_by": INTEGER_OR_NULL, "created_at": TIME, "updated_at": TIME,
}, {"usage": ref("BudgetUsage")})
PLAN = record({
    "task_count": INTEGER, "levels": {"type": "array", "items": TEXT_LIST}, "critical_path": TEXT_LIST,
    "max_parallelism": INTEGER, "estimated_cost": MONEY, "estimated_duration_s": NUMBER, "currency": TEXT,
}, {"tasks": OBJECT, "basis": OBJECT, "unbounded_tasks": INTEGER, "upper_bound_cost": MONEY},
    description="How a task tree would run: its levels, critical path, cost and duration estimates.")
DECOMPOSITION_BASE = record({
    "id": INTEGER, "goal": TEXT, "strategy": TEXT, "status": TEXT, "error": TEXT_OR_NULL,
    "workflow": nullable(record({"slug": TEXT, "version": INTEGER_OR_NULL})), "run_id": INTEGER_OR_NULL,
    "created_by": INTEGER_OR_NULL, "created_at": TIME, "executed_at": TIME_OR_NULL,
}, description="What a decomposition's list row and its full answer share.")
CHECK_RESULT = record({"status": HEALTH_STATUS, "response_time_ms": NUMBER},
                      {"details": OBJECT_OR_NULL, "error": TEXT_OR_NULL},
                      description="One health check; details and error only for a signed-in user or HEALTH_TOKEN.")
HEALTH_REPORT = record({"status": HEALTH_STATUS}, {
    "checked_at": TIME, "duration_ms": NUMBER,
    "checks": {"type": "object", "additionalProperties": ref("HealthCheck")}},
    description="A probe's report; 503 when the system is UNHEALTHY (for /ready: database or Redis unusable).")
WEBHOOK = record({
    "id": INTEGER, "url": TEXT, "events": TEXT_LIST, "description": TEXT, "active": BOOLEAN,
    "disabled_reason": TEXT_OR_NULL, "consecutive_failures": INTEGER, "created_by": INTEGER_OR_NULL,
    "created_at": TIME, "updated_at": TIME}, {"secret": {**TEXT, "description": "Only on create and rotate-secret."}})
DELIVERY = record({
    "id": INTEGER, "webhook_id": INTEGER, "event_id": INTEGER_OR_NULL, "message_id": TEXT, "event_type": TEXT,
    "status": TEXT, "attempts": INTEGER, "created_at": TIME, "next_attempt_at": TIME_OR_NULL,
    "finished_at": TIME_OR_NULL}, {"attempt_log": {"type": "array", "items": record({
        "attempted_at": TIME, "request_headers": OBJECT_OR_NULL, "response_status": INTEGER_OR_NULL,
        "response_body": TEXT_OR_NULL, "duration_ms": NUMBER, "error": TEXT_OR_NULL})}})
MEMORY_ENTRY = record({
    "namespace": TEXT, "key": TEXT, "bytes": INTEGER, "tier": TEXT, "expires_at": TIME_OR_NULL,
    "ttl_left": INTEGER_OR_NULL, "hits": INTEGER_OR_NULL, "updated_at": TIME})

COMPONENTS: dict[str, Schema] = {
    "User": USER,
    "Session": record({"id": TEXT, "kind": TEXT, "created_at": TIME, "last_seen_at": TIME_OR_NULL,
                       "expires_at": TIME_OR_NULL, "ip": TEXT_OR_NULL, "user_agent": TEXT_OR_NULL,
                       "current": BOOLEAN}),
    "TokenPair": record({"access_token": TEXT, "refresh_token": TEXT, "token_type": {"const": "Bearer"},
                         "expires_in": {**INTEGER, "description": "Seconds the access token is valid."},
                         "user": ref("User")}),
    "Notice": record({"status": {**TEXT, "description": "What happens next, in words."}}),
    "RunSummary": RUN_SUMMARY,
    "RunListItem": extends("RunSummary", {"step_counts": record({"succeeded": INTEGER, "total": INTEGER})}),
    "Run": extends("RunSummary", {"steps": {"type": "array", "items": ref("Step")}}),
    "Step": STEP,
    "Attempt": ATTEMPT,
    "Checkpoint": record({"id": INTEGER, "run_id": INTEGER, "seq": INTEGER, "kind": TEXT, "note": TEXT,
                          "created_at": TIME, "state": {**OBJECT, "description": "The params and completed "
                                                                                  "outputs it stands for."}}),
    "Workflow": WORKFLOW,
    "WorkflowVersion": record({"version": INTEGER, "definition": OBJECT, "definition_hash": TEXT,
                               "created_by": INTEGER_OR_NULL, "created_at": TIME}),
    "DefinitionCheck": record({"valid": BOOLEAN, "errors": {"type": "array", "items": record(
        {"field": TEXT_OR_NULL, "message": TEXT}, {"step": TEXT_OR_NULL})}}),
    "Budget": BUDGET,
    "BudgetUsage": BUDGET_USAGE,
    "BudgetAlert": record({"id": INTEGER, "budget_id": INTEGER, "kind": TEXT, "period_start": TIME,
                           "threshold_pct": INTEGER_OR_NULL, "used": MONEY, "limit": MONEY, "fired_at": TIME}),
    "BudgetHold": record({"id": INTEGER, "run_id": INTEGER, "budget_id": INTEGER, "step_id": TEXT, "budget": TEXT,
                          "period_start": TIME, "needed": MONEY, "remaining": MONEY, "status": TEXT,
                          "created_at": TIME}),
    "RunBudget": record({"run_id": INTEGER, "holds": {"type": "array", "items": ref("BudgetHold")},
                         "cost_by_step": {"type": "object", "additionalProperties": MONEY}}),
    "Price": record({"model": TEXT, "input": MONEY, "output": MONEY, "currency": TEXT, "effective_from": TIME,
                     "source": TEXT}, description="A price per 1,000 tokens."),
    "Estimate": record({
        "workflow": TEXT, "currency": TEXT, "upper_bound": MONEY, "upper_bound_exact": BOOLEAN, "likely": MONEY,
        "steps": {"type": "array", "items": record({"step_id": TEXT, "uses": TEXT, "upper_bound": MONEY,
                                                    "likely": MONEY, "exact": BOOLEAN, "history_runs": INTEGER})}}),
    "CostSummary": record({
        "group_by": TEXT, "since": TIME, "until": TIME,
        "items": {"type": "array", "items": record({"key": {"type": ["string", "integer", "null"]},
                                                    "label": TEXT_OR_NULL, "records": INTEGER, "runs": INTEGER,
                                                    "spent": MONEY, "saved": MONEY})},
        "totals": record({"records": INTEGER, "runs": INTEGER, "spent": MONEY, "saved": MONEY},
                         {"saving_ratio": {"type": ["string", "null"]}})}),
    "CostRecord": record({
        "id": INTEGER, "created_at": TIME, "run_id": INTEGER, "step_id": TEXT, "attempt": INTEGER, "workflow": TEXT,
        "user_id": INTEGER_OR_NULL, "kind": TEXT, "model": TEXT_OR_NULL, "units_in": INTEGER_OR_NULL,
        "units_out": INTEGER_OR_NULL, "unit_price_in": {"type": ["string", "null"]},
        "unit_price_out": {"type": ["string", "null"]}, "amount": MONEY, "saved": MONEY, "currency": TEXT}),
    "Plan": PLAN,
    "DecompositionBase": DECOMPOSITION_BASE,
    "DecompositionSummary": extends("DecompositionBase", {
        "task_count": INTEGER_OR_NULL, "estimated_cost": nullable(MONEY), "estimated_duration_s": NUMBER_OR_NULL,
        "max_parallelism": INTEGER_OR_NULL}),
    "Decomposition": extends("DecompositionBase", {"input": ANY, "tree": OBJECT_OR_NULL,
                                                   "plan": nullable(ref("Plan"))}),
    "DecompositionCheck": record({"valid": BOOLEAN, "errors": {"type": "array", "items": record(
        {"field": TEXT_OR_NULL, "message": TEXT}, {"task": TEXT_OR_NULL})},
        "tree": OBJECT_OR_NULL, "plan": nullable(ref("Plan"))}),
    "Event": record({
        "id": {**TEXT, "description": "The outbox id, as text (it is also the message id)."}, "type": TEXT,
        "occurred_at": TIME, "subject": TEXT,
        "data": {**OBJECT_OR_NULL, "description": "null for non-admins on user.* and auth.* events."},
        "state": TEXT, "attempts": INTEGER, "published_at": TIME_OR_NULL, "last_error": TEXT_OR_NULL},
        {"redacted": BOOLEAN}),
    "Webhook": WEBHOOK,
    "WebhookWithSecret": extends("Webhook", {"secret": TEXT}),
    "Delivery": DELIVERY,
    "AuditEvent": record({
        "id": INTEGER, "at": TIME, "event": TEXT, "actor": nullable(record({"id": INTEGER, "email": TEXT})),
        "target_type": TEXT_OR_NULL, "target_id": TEXT_OR_NULL, "outcome": TEXT, "ip": TEXT_OR_NULL,
        "user_agent": TEXT_OR_NULL, "request_id": TEXT_OR_NULL, "details": OBJECT_OR_NULL}),
    "MemoryEntry": MEMORY_ENTRY,
    "MemoryValue": extends("MemoryEntry", {"value": ANY, "served_from": TEXT}),
    "MemoryStored": record({"namespace": TEXT, "key": TEXT, "stored": BOOLEAN, "bytes": INTEGER, "tier": TEXT}),
    "MemoryNamespace": record({"namespace": TEXT, "entries": INTEGER, "bytes": INTEGER},
                              {"l4_entries": INTEGER}),
    "MemoryStats": record({"tiers": {**OBJECT, "description": "l1..l4 and overall: hits, misses, hit rate, "
                                                              "latency, entries, bytes; and the config."},
                           "history": {"type": "array", "items": OBJECT}}),
    "MemoryFlushed": record({"namespace": TEXT, "deleted": INTEGER}),
    "StatsReset": record({"reset": BOOLEAN}),
    "Queue": record({"name": TEXT, "queued": INTEGER, "started": INTEGER, "scheduled": INTEGER,
                     "deferred": INTEGER, "failed": INTEGER}),
    "Worker": record({
        "name": TEXT, "state": TEXT, "queues": TEXT_LIST, "hostname": TEXT_OR_NULL, "pid": INTEGER_OR_NULL,
        "heartbeat_age_s": NUMBER_OR_NULL, "live": BOOLEAN, "current_job_id": TEXT_OR_NULL,
        "successful_jobs": INTEGER, "failed_jobs": INTEGER, "working_seconds": NUMBER}),
    "FailedJob": record({"id": TEXT, "queue": TEXT, "function": TEXT_OR_NULL, "enqueued_at": TIME_OR_NULL,
                         "ended_at": TIME_OR_NULL, "error": TEXT}),
    "RequeuedJob": record({"job": record({"id": TEXT, "queue": TEXT, "status": {"const": "queued"}})}),
    "Revoked": record({"revoked": {**INTEGER, "description": "How many sessions ended."}}),
    "HealthCheck": CHECK_RESULT,
    "HealthReport": HEALTH_REPORT,
    "HealthCheckAnswer": record({"check": {"allOf": [ref("HealthCheck"), record({"name": TEXT})]}}),
    "OpenAPIDocument": record({"openapi": TEXT, "info": OBJECT, "paths": OBJECT}, {"components": OBJECT}),
}

# Answers built from components: envelopes, pages and plain lists.
SHAPES: dict[str, Schema] = {
    "UserAnswer": envelope(user="User"), "UserPage": page_of("User"), "SessionPage": page_of("Session"),
    "RunAnswer": envelope(run="Run"), "RunPage": page_of("RunListItem"),
    "CheckpointAnswer": envelope(checkpoint="Checkpoint"), "CheckpointPage": page_of("Checkpoint"),
    "WorkflowAnswer": envelope(workflow="Workflow"), "WorkflowPage": page_of("Workflow"),
    "WorkflowVersionPage": page_of("WorkflowVersion"),
    "BudgetAnswer": envelope(budget="Budget"), "BudgetPage": page_of("Budget"),
    "BudgetAlertPage": page_of("BudgetAlert"),
    "PriceAnswer": envelope(price="Price"), "PricePage": page_of("Price"),
    "EstimateAnswer": envelope(estimate="Estimate"), "CostRecordPage": page_of("CostRecord"),
    "DecompositionAnswer": envelope(decomposition="Decomposition"),
    "DecompositionPage": page_of("DecompositionSummary"),
    "DecompositionExecuted": envelope(decomposition="Decomposition", run="Run"),
    "PlanAnswer": record({"plan": nullable(ref("Plan"))}),
    "EventPage": page_of("Event"), "AuditEventPage": page_of("AuditEvent"),
    "WebhookAnswer": envelope(webhook="Webhook"), "WebhookSecretAnswer": envelope(webhook="WebhookWithSecret"),
    "WebhookPage": page_of("Webhook"), "DeliveryAnswer": envelope(delivery="Delivery"),
    "DeliveryPage": page_of("Delivery"), "DeliveryList": items_of("Delivery"),
    "MemoryEntryPage": page_of("MemoryEntry"), "MemoryNamespaceList": items_of("MemoryNamespace"),
    "QueueList": items_of("Queue"), "WorkerList": items_of("Worker"), "FailedJobList": items_of("FailedJob"),
    "HealthHistory": items_of("HealthReport"),
}
COMPONENTS.update(SHAPES)

PROBE = {200: "HealthReport", 503: "HealthReport"}
SUCCESS: dict[str, dict[int, str | None]] = {
    "api.auth_api.register": {201: "UserAnswer", 202: "Notice"},
    "api.auth_api.verify_email": {200: "UserAnswer"},
    "api.auth_api.resend_verification": {202: "Notice"},
    "api.auth_api.login": {200: "TokenPair"},
    "api.auth_api.refresh_tokens": {200: "TokenPair"},
    "api.auth_api.logout": {204: None},
    "api.auth_api.me": {200: "UserAnswer"},
    "api.auth_api.list_sessions": {200: "SessionPage"},
    "api.auth_api.revoke_session": {204: None},
    "api.users_api.list_users": {200: "UserPage"},
    "api.users_api.create_user": {201: "UserAnswer"},
    **{f"api.users_api.{name}": {200: "UserAnswer"}
       for name in ("get_user", "update_user", "lock_user", "unlock_user")},
    "api.users_api.revoke_user_sessions": {200: "Revoked"},
    "api.audit_api.list_events": {200: "AuditEventPage"},
    "api.health_api.live": {200: "HealthReport"},
    "api.health_api.ready": PROBE,
    "api.health_api.system": PROBE,
    "api.health_api.check": {200: "HealthCheckAnswer", 503: "HealthCheckAnswer"},
    "api.health_api.history": {200: "HealthHistory"},
    "api.workers_api.workers": {200: "WorkerList"},
    "api.workers_api.queues": {200: "QueueList"},
    "api.workers_api.failed": {200: "FailedJobList"},
    "api.workers_api.requeue": {200: "RequeuedJob"},
    "api.workers_api.delete": {204: None},
    "api.workflows_api.list_workflows": {200: "WorkflowPage"},
    "api.workflows_api.create_workflow": {201: "WorkflowAnswer"},
    "api.workflows_api.validate_workflow": {200: "DefinitionCheck"},
    **{f"api.workflows_api.{name}": {200: "WorkflowAnswer"}
       for name in ("get_workflow", "update_workflow", "archive_workflow")},
    "api.workflows_api.list_versions": {200: "WorkflowVersionPage"},
    "api.runs_api.trigger_run": {202: "RunAnswer", 200: "RunAnswer"},
    "api.runs_api.list_runs": {200: "RunPage"},
    **{f"api.runs_api.{name}": {200: "RunAnswer"} for name in (
        "get_run", "cancel_run", "retry_run", "pause_run", "resume_run", "retry_step", "approve_step",
        "restore_checkpoint")},
    "api.runs_api.list_checkpoints": {200: "CheckpointPage"},
    "api.runs_api.create_checkpoint": {201: "CheckpointAnswer"},
    "api.runs_api.get_checkpoint": {200: "CheckpointAnswer"},
    "api.runs_api.delete_checkpoint": {204: None},
    "api.costs_api.summary": {200: "CostSummary"},
    "api.costs_api.records": {200: "CostRecordPage"},
    "api.costs_api.list_budgets": {200: "BudgetPage"},
    "api.costs_api.create_budget": {201: "BudgetAnswer"},
    "api.costs_api.get_budget": {200: "BudgetAnswer"},
    "api.costs_api.update_budget": {200: "BudgetAnswer"},
    "api.costs_api.delete_budget": {204: None},
    "api.costs_api.budget_alerts": {200: "BudgetAlertPage"},
    "api.costs_api.budget_usage": {200: "BudgetUsage"},
    "api.costs_api.list_prices": {200: "PricePage"},
    "api.costs_api.add_price": {201: "PriceAnswer"},
    "api.costs_api.estimate_run": {200: "EstimateAnswer"},
    "api.costs_api.run_budget": {200: "RunBudget"},
    "api.costs_api.resume_over_budget": {200: "RunAnswer"},
    "api.decompositions_api.list_decompositions": {200: "DecompositionPage"},
    "api.decompositions_api.create_decomposition": {201: "DecompositionAnswer"},
    "api.decompositions_api.validate_decomposition": {200: "DecompositionCheck"},
    "api.decompositions_api.get_decomposition": {200: "DecompositionAnswer"},
    "api.decompositions_api.get_plan": {200: "PlanAnswer"},
    "api.decompositions_api.edit_draft": {200: "DecompositionAnswer"},
    "api.decompositions_api.plan_draft": {200: "DecompositionAnswer"},
    "api.decompositions_api.execute_decomposition": {202: "DecompositionExecuted"},
    "api.events_api.list_events": {200: "EventPage"},
    "api.webhooks_api.list_webhooks": {200: "WebhookPage"},
    "api.webhooks_api.create_webhook": {201: "WebhookSecretAnswer"},
    "api.webhooks_api.get_webhook": {200: "WebhookAnswer"},
    "api.webhooks_api.update_webhook": {200: "WebhookAnswer"},
    "api.webhooks_api.delete_webhook": {204: None},
    "api.webhooks_api.rotate_secret": {200: "WebhookSecretAnswer"},
    "api.webhooks_api.ping": {202: "DeliveryAnswer"},
    "api.webhooks_api.list_deliveries": {200: "DeliveryPage"},
    "api.webhooks_api.redeliver": {202: "DeliveryList"},
    "api.memory_api.stats": {200: "MemoryStats"},
    "api.memory_api.reset_stats": {200: "StatsReset"},
    "api.memory_api.namespaces": {200: "MemoryNamespaceList"},
    "api.memory_api.entries": {200: "MemoryEntryPage"},
    "api.memory_api.get_entry": {200: "MemoryValue"},
    "api.memory_api.put_entry": {200: "MemoryStored"},
    "api.memory_api.delete_entry": {204: None},
    "api.memory_api.flush": {200: "MemoryFlushed"},
    "api.openapi.openapi_document": {200: "OpenAPIDocument"},
}
DESCRIPTIONS = {200: "OK", 201: "Created", 202: "Accepted: the work goes on in the background", 204: "No content",
                503: "The report, when the component or system is UNHEALTHY"}
