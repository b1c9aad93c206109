"""Figures read at scrape time, so every web process (and every replica) reports the same truth.

Each query is cheap at 100,000 runs (``bench/console.py`` measures a whole scrape):
- active runs: a count of the unfinished statuses from ``ix_workflow_runs_status_created_at_id``
  (finished runs, the bulk of the table, are never read: ``flowdeck_runs_total`` is counted by
  the process that commits each run's end, see ``webapp.metrics.transitions``);
- events: the partial index of unpublished events gives the count and the oldest;
- locked accounts: a count over ``users`` (small);
- budgets: one look-up of each active budget's current period counters.
A source that is down is skipped and reported in ``flowdeck_scrape_error{source}`` rather than
failing the whole scrape: a Redis outage must not hide the database figures, and vice versa.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from flask import Flask
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from rq import Queue, Worker
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from webapp.clock import utcnow
from webapp.costs import ledger
from webapp.costs.budget_models import Budget
from webapp.costs.periods import period_start
from webapp.events.models import PENDING, Event
from webapp.extensions import db
from webapp.health.checks import Status
from webapp.memory import stats as memory_stats
from webapp.queues import redis_connection
from webapp.runs.models import WorkflowRun
from webapp.runs.states import RUN_IN_PROGRESS
from webapp.users.models import User

log = logging.getLogger(__name__)
HEALTH_LEVELS = {Status.HEALTHY: 2, Status.DEGRADED: 1, Status.UNHEALTHY: 0}
REGISTRIES = {"started": StartedJobRegistry, "failed": FailedJobRegistry, "deferred": DeferredJobRegistry,
              "scheduled": ScheduledJobRegistry}


class FlowdeckCollector:
    """A prometheus_client custom collector bound to the app (it opens an app context per scrape)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []  # collected only on scrape, never at registration

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily("flowdeck_scrape_error", "1 when a source could not be read in this scrape.",
                                   labels=["source"])
        with self.app.app_context():
            for source, read in (("database", self.database), ("redis", self.redis), ("health", self.health)):
                yield from self._guarded(source, read, errors)
            db.session.remove()
        yield errors

    @staticmethod
    def _guarded(source: str, read: Callable[[], list[Metric]], errors: GaugeMetricFamily) -> list[Metric]:
        try:
            metrics = read()
        except Exception:  # any failure of a source is reported, the other sources still answer
            log.warning("metrics: could not read %s", source, exc_info=True)
            db.session.rollback()
            errors.add_metric([source], 1)
            return []
        errors.add_metric([source], 0)
        return metrics

    # --- PostgreSQL ------------------------------------------------------------------------
    def database(self) -> list[Metric]:
        return [*self.runs(), *self.events(), self.accounts_locked(), self.budgets()]

    def runs(self) -> list[Metric]:
        active = GaugeMetricFamily("flowdeck_runs_active", "Runs not yet finished, by status.", labels=["status"])
        counts = dict(db.session.execute(select(WorkflowRun.status, func.count())
                                         .where(WorkflowRun.status.in_(RUN_IN_PROGRESS))
                                         .group_by(WorkflowRun.status)).all())
        for status in sorted(RUN_IN_PROGRESS):
            active.add_metric([status], counts.get(status, 0))
        return [active]

    def events(self) -> list[Metric]:
        count, oldest = db.session.execute(select(func.count(), func.min(Event.created_at)).where(PENDING)).one()
        age = (utcnow() - _aware(oldest)).total_seconds() if oldest else 0.0
        return [GaugeMetricFamily("flowdeck_events_unpublished", "Outbox events not yet published.", value=count),
                GaugeMetricFamily("flowdeck_events_oldest_unpublished_seconds",
                                  "Age of the oldest unpublished outbox event (0 when none).", value=max(age, 0.0))]

    def accounts_locked(self) -> Metric:
        count = db.session.scalar(select(func.count()).select_from(User).where(User.locked_until > utcnow()))
        return GaugeMetricFamily("flowdeck_accounts_locked", "Accounts locked after failed sign-ins.", value=count)

    def budgets(self) -> Metric:
        ratio = GaugeMetricFamily("flowdeck_budget_spent_ratio",
                                  "Spent (reservations included) over the limit in the current period.",
                                  labels=["budget", "name", "scope", "period", "currency"])
        now = utcnow()
        for budget in db.session.scalars(select(Budget).where(Budget.active.is_(True)).order_by(Budget.id)):
            spent, reserved = ledger.usage_of(budget, period_start(budget.period, now))
            value = float((spent + reserved) / budget.limit) if budget.limit > 0 else 0.0
            ratio.add_metric([str(budget.id), budget.name, budget.scope, budget.period, budget.currency], value)
        return ratio

    # --- Redis -----------------------------------------------------------------------------
    def redis(self) -> list[Metric]:
        redis = redis_connection()
        jobs = GaugeMetricFamily("flowdeck_queue_jobs", "RQ jobs by queue and state.", labels=["queue", "state"])
        for name in self.app.config["RQ_QUEUES"]:
            queue = Queue(name, connection=redis)
            jobs.add_metric([name, "queued"], queue.count)
            for state, registry in REGISTRIES.items():
                jobs.add_metric([name, state], registry(queue=queue).count)
        workers = GaugeMetricFamily("flowdeck_workers", "RQ workers with a live registration, by state.",
                                    labels=["state"])
        states = {"busy": 0, "idle": 0, "suspended": 0}
        for worker in Worker.all(connection=redis):
            state = worker.get_state()
            states[state if state in states else "idle"] += 1  # "started": registered, not yet working
        for state, count in states.items():
            workers.add_metric([state], count)
        memory = CounterMetricFamily("flowdeck_memory_requests", "Memory tier look-ups by tier and result.",
                                     labels=["tier", "result"])
        for tier, figures in memory_stats.read(redis).items():
            if tier != "overall":
                memory.add_metric([tier, "hit"], figures["hits"])
                memory.add_metric([tier, "miss"], figures["misses"])
        return [jobs, workers, memory]

    # --- health ----------------------------------------------------------------------------
    def health(self) -> list[Metric]:
        from webapp.health.service import system_snapshot

        gauge = GaugeMetricFamily("flowdeck_health_status",
                                  "Health of each component: 2 healthy, 1 degraded, 0 unhealthy.",
                                  labels=["component"])
        snapshot = system_snapshot()
        for name, result in snapshot.checks.items():
            if result.status is Status.NOT_CONFIGURED:
                continue  # an optional component that is not set up is neither up nor down
            gauge.add_metric([name], HEALTH_LEVELS.get(result.status, 0))
        gauge.add_metric(["system"], HEALTH_LEVELS.get(snapshot.status, 0))
        return [gauge]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
