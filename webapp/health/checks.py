"""Health checks: each one probes a single dependency and says how it is.

A check never raises: whatever goes wrong becomes an UNHEALTHY ``CheckResult`` with the error
as text. Every check owns its client, built with socket timeouts shorter than the aggregator's
deadline, so a hung dependency ends in a timeout error rather than a thread stuck for minutes.
"""
from __future__ import annotations

import enum
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from webapp.queues import redis_client


class Status(str, enum.Enum):
    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    UNHEALTHY = "UNHEALTHY"
    # An optional component that is not set up: reported, never counted against the system.
    NOT_CONFIGURED = "NOT_CONFIGURED"

    @property
    def rank(self) -> int:
        return {"HEALTHY": 0, "NOT_CONFIGURED": 0, "DEGRADED": 1, "UNHEALTHY": 2}[self.value]


def worst(statuses) -> Status:
    """The worst status wins; no checks at all is HEALTHY."""
    return max(statuses, key=lambda status: status.rank, default=Status.HEALTHY)


@dataclass(frozen=True)
class CheckResult:
    status: Status
    response_time_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self, with_details: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status.value, "response_time_ms": round(self.response_time_ms, 2)}
        if with_details:
            body["details"] = self.details
            body["error"] = self.error
        return body


class HealthCheck:
    """Base class: subclasses implement ``probe`` and return (status, details).

    ``slow_ms`` is the latency over which a check that worked is reported DEGRADED.
    """

    name = "check"

    def __init__(self, timeout: float, slow_ms: float):
        self.timeout = timeout
        self.slow_ms = slow_ms

    def probe(self) -> tuple[Status, dict[str, Any]]:
        raise NotImplementedError

    def run(self) -> CheckResult:
        started = time.perf_counter()
        try:
            status, details = self.probe()
            error = details.pop("error", None)
        except Exception as exc:  # a probe's failure is its answer, not our crash
            status, details, error = Status.UNHEALTHY, {}, f"{type(exc).__name__}: {exc}".strip()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if status is Status.HEALTHY and elapsed_ms > self.slow_ms:
            status, error = Status.DEGRADED, f"slow: {elapsed_ms:.0f} ms over the {self.slow_ms:.0f} ms threshold"
        return CheckResult(status, elapsed_ms, details, error)


class DatabaseHealthCheck(HealthCheck):
    """``SELECT 1`` on a dedicated one-connection engine, plus the app pool's usage.

    The probe has its own engine (connect timeout, server-side statement timeout) so a
    saturated app pool cannot make the probe hang, while the details still show how full the
    app's pool is: that is what an operator needs when requests start queueing.
    """

    name = "database"

    def __init__(self, url: str, app_engine: Engine | None, timeout: float, slow_ms: float):
        super().__init__(timeout, slow_ms)
        self.app_engine = app_engine
        self.is_postgres = make_url(url).get_backend_name() == "postgresql"
        # The statement timeout rides on the connection's startup packet: no extra round trip per probe.
        # TCP keepalives and tcp_user_timeout make a dead peer fail the socket instead of hanging it.
        connect_args = ({"connect_timeout": max(1, round(timeout)),
                         "options": f"-c statement_timeout={int(timeout * 1000)}",
                         "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
                         "tcp_user_timeout": int(timeout * 1000)} if self.is_postgres else {})
        # Autocommit: SELECT 1 is then one round trip, with no BEGIN/ROLLBACK around it.
        self.engine = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True, pool_timeout=timeout,
                                    isolation_level="AUTOCOMMIT", connect_args=connect_args)

    def probe(self) -> tuple[Status, dict[str, Any]]:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        return Status.HEALTHY, self.pool_details()

    def pool_details(self) -> dict[str, Any]:
        pool = self.app_engine.pool if self.app_engine is not None else None
        if pool is None or not hasattr(pool, "checkedout"):
            return {"backend": "postgresql" if self.is_postgres else "sqlite"}
        return {"backend": "postgresql" if self.is_postgres else "sqlite", "pool_size": pool.size(),
                "checked_out": pool.checkedout(), "overflow": max(0, pool.overflow())}


class RedisHealthCheck(HealthCheck):
    """PING, INFO memory and a SET/GET/DEL round trip on a probe key.

    Any eviction policy but ``noeviction`` is DEGRADED: under memory pressure Redis would
    silently drop RQ jobs and locks.
    """

    name = "redis"

    def __init__(self, url: str, timeout: float, slow_ms: float):
        super().__init__(timeout, slow_ms)
        self.client = redis_client(url, timeout, decode_responses=True)

    def probe(self) -> tuple[Status, dict[str, Any]]:
        key = f"flowdeck:health:probe:{secrets.token_hex(6)}"
        value = secrets.token_hex(8)
        with self.client.pipeline(transaction=False) as pipe:  # one round trip for all five commands
            pipe.ping().info("memory").set(key, value, ex=60).get(key).delete(key)
            _, memory, _, echoed, _ = pipe.execute()
        policy = memory.get("maxmemory_policy", "unknown")
        details = {"used_memory": memory.get("used_memory"), "used_memory_human": memory.get("used_memory_human"),
                   "maxmemory": memory.get("maxmemory"), "maxmemory_policy": policy}
        if echoed != value:
            return Status.UNHEALTHY, {**details, "error": "the probe key did not read back"}
        if policy != "noeviction":
            return Status.DEGRADED, {**details, "error": f"maxmemory-policy is {policy}; RQ needs noeviction"}
        return Status.HEALTHY, details


class NotConfiguredCheck(HealthCheck):
    """Stands in for an optional component whose setting is empty."""

    def __init__(self, name: str, setting: str):
        super().__init__(timeout=1, slow_ms=float("inf"))
        self.name = name
        self.setting = setting

    def probe(self) -> tuple[Status, dict[str, Any]]:
        return Status.NOT_CONFIGURED, {"reason": f"{self.setting} is not set"}
