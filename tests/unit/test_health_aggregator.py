"""The aggregator's rules with in-process checks: worst wins, slow is DEGRADED, deadline, single flight."""
import threading

import pytest

from webapp.config import ConfigError, EnvReader, health_settings
from webapp.health.aggregator import SystemHealthAggregator
from webapp.health.checks import HealthCheck, NotConfiguredCheck, Status, worst
from webapp.health.panel import sparkline_points


class FixedCheck(HealthCheck):
    def __init__(self, name, status, slow_ms=1000.0, gate: threading.Event | None = None, delay=0.0):
        super().__init__(timeout=1, slow_ms=slow_ms)
        self.name, self.status, self.gate, self.delay = name, status, gate, delay
        self.runs = 0
        self.count_lock = threading.Lock()

    def probe(self):
        with self.count_lock:
            self.runs += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay:
            threading.Event().wait(self.delay)
        return self.status, {"runs": self.runs}


def aggregate(*checks, deadline=2.0, cache_seconds=0.0):
    return SystemHealthAggregator(list(checks), deadline=deadline, cache_seconds=cache_seconds)


def test_worst_status_wins():
    snapshot = aggregate(FixedCheck("a", Status.HEALTHY), FixedCheck("b", Status.DEGRADED),
                         FixedCheck("c", Status.UNHEALTHY)).snapshot()
    assert snapshot.status is Status.UNHEALTHY
    assert [r.status for r in snapshot.checks.values()] == [Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY]


def test_degraded_beats_healthy_and_not_configured_counts_as_nothing():
    assert worst([Status.HEALTHY, Status.DEGRADED, Status.NOT_CONFIGURED]) is Status.DEGRADED
    snapshot = aggregate(FixedCheck("a", Status.HEALTHY), NotConfiguredCheck("rabbitmq", "AMQP_URL")).snapshot()
    assert snapshot.status is Status.HEALTHY
    assert snapshot.checks["rabbitmq"].status is Status.NOT_CONFIGURED


def test_check_slower_than_its_threshold_is_degraded():
    snapshot = aggregate(FixedCheck("slow", Status.HEALTHY, slow_ms=5, delay=0.05)).snapshot()
    assert snapshot.status is Status.DEGRADED
    assert snapshot.checks["slow"].error.startswith("slow:")


def test_unfinished_check_is_unhealthy_timeout_and_is_not_started_again_while_running():
    gate = threading.Event()
    hung = FixedCheck("hung", Status.HEALTHY, gate=gate)
    agg = aggregate(hung, FixedCheck("fine", Status.HEALTHY), deadline=0.2)
    try:
        first = agg.snapshot()
        second = agg.snapshot()
        assert first.checks["hung"].status is Status.UNHEALTHY and first.checks["hung"].error.startswith("timeout")
        assert second.checks["hung"].status is Status.UNHEALTHY
        assert first.checks["fine"].status is Status.HEALTHY
        assert hung.runs == 1
    finally:
        gate.set()
        agg.shutdown()


def test_a_check_that_finishes_after_the_deadline_is_reported_on_the_next_call():
    gate = threading.Event()
    late = FixedCheck("late", Status.HEALTHY, gate=gate)
    agg = aggregate(late, deadline=0.1, cache_seconds=60)
    assert agg.snapshot().status is Status.UNHEALTHY
    gate.set()
    agg.running["late"].result(timeout=5)
    assert agg.snapshot().status is Status.HEALTHY
    assert late.runs == 1


def test_twenty_concurrent_snapshots_run_each_check_once():
    gate = threading.Event()
    checks = [FixedCheck(name, Status.HEALTHY, gate=gate) for name in ("database", "redis", "workers")]
    agg = aggregate(*checks, cache_seconds=30)
    results = []
    threads = [threading.Thread(target=lambda: results.append(agg.snapshot())) for _ in range(20)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 20 and all(s.status is Status.HEALTHY for s in results)
    assert [check.runs for check in checks] == [1, 1, 1]


def test_without_a_cache_every_call_runs_the_checks_again():
    check = FixedCheck("a", Status.HEALTHY)
    agg = aggregate(check, cache_seconds=0)
    agg.snapshot()
    agg.snapshot()
    assert check.runs == 2


def test_readiness_subset_runs_only_the_named_checks():
    db, other = FixedCheck("database", Status.HEALTHY), FixedCheck("rabbitmq", Status.UNHEALTHY)
    snapshot = aggregate(db, other).snapshot(["database"])
    assert list(snapshot.checks) == ["database"] and snapshot.status is Status.HEALTHY
    assert other.runs == 0


def test_sparkline_spans_the_box_and_needs_two_points():
    assert sparkline_points([3.0]) == ""
    assert sparkline_points([1.0, 3.0, 2.0], width=100, height=10) == "0.0,10.0 50.0,0.0 100.0,5.0"
    assert sparkline_points([2.0, 2.0], width=10, height=10) == "0.0,10.0 10.0,10.0"


@pytest.mark.parametrize("env, message", [
    ({"HEALTH_DEADLINE_SECONDS": "soon"}, "HEALTH_DEADLINE_SECONDS must be a number"),
    ({"HEALTH_DEADLINE_SECONDS": "1", "HEALTH_TIMEOUT_SECONDS": "3"}, "must not exceed"),
    ({"HEALTH_POLL_SECONDS": "0"}, "HEALTH_POLL_SECONDS must be at least 1"),
    ({"HEALTH_QUEUE_BACKLOG": "many"}, "HEALTH_QUEUE_BACKLOG must be a whole number"),
])
def test_junk_health_settings_fail_at_boot(env, message):
    with pytest.raises(ConfigError, match=message):
        health_settings(EnvReader(env))


def test_health_settings_defaults():
    settings = health_settings(EnvReader({}))
    assert settings["HEALTH_TOKEN"] is None and settings["HEALTH_POLL_SECONDS"] == 5
    assert settings["HEALTH_TIMEOUT_SECONDS"] <= settings["HEALTH_DEADLINE_SECONDS"]
