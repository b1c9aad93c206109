"""Settings, read once from the environment and checked before the app starts.

Every setting has one parser that raises ``ConfigError`` with the variable's name on junk
("yes" is not a port number), so a bad deployment fails at boot, not at the first request.
Production (``FLOWDECK_ENV=production``, the default) refuses to start with missing or
well-known secrets; ``make run`` generates development secrets under ``instance/``.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("production", "development", "test")
REGISTRATION_MODES = ("closed", "verify", "open")
LOG_FORMATS = ("json", "text")
MIN_SECRET_BYTES = 32
# Values that ship in docs, tutorials and our own test config: never acceptable in production.
KNOWN_WEAK_SECRETS = frozenset(
    {"", "dev", "secret", "changeme", "change-me", "you-will-never-guess", "test-secret-key",
     "test-jwt-secret-key-that-is-long-enough-0123"}
)
# Per 1,000 tokens (in:out), for the offline provider's models; override with LLM_PRICES.
DEFAULT_LLM_PRICES = "local-small=0.0005:0.0015,local-large=0.003:0.006"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def parse_bool(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_int(name: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def parse_float(name: str, raw: str, *, minimum: float = 0.0) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value != value or value < minimum:
        raise ConfigError(f"{name} must be a number of at least {minimum}, got {raw!r}")
    return value


def parse_choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def parse_url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in schemes:
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {raw!r}")
    if scheme != "sqlite" and not parts.hostname:
        raise ConfigError(f"{name} has no host: {raw!r}")
    return value


def parse_list(raw: str) -> tuple[str, ...]:
    """A comma-separated list; blanks dropped, order kept."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_prices(name: str, raw: str) -> dict[str, tuple[Decimal, Decimal]]:
    """``model=in:out,...`` with Decimal prices per 1,000 tokens in and out."""
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for item in parse_list(raw):
        model, _, pair = item.partition("=")
        price_in, _, price_out = pair.partition(":")
        try:
            pair_value = (Decimal(price_in.strip()), Decimal(price_out.strip()))
        except InvalidOperation:
            pair_value = None
        if not model.strip() or pair_value is None or not all(p.is_finite() and p >= 0 for p in pair_value):
            raise ConfigError(f"{name} entries look like model=0.0005:0.0015, got {item!r}")
        prices[model.strip()] = pair_value
    return prices


def database_uri(raw: str) -> str:
    """Accept the usual ``postgres://``/``postgresql://`` spellings; always use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


class EnvReader:
    """Reads settings from an environment mapping: each variable is named once, next to its
    default, and parsed by the matching ``parse_*`` helper."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def raw(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default)

    def optional(self, name: str) -> str | None:
        return self.raw(name).strip() or None

    def integer(self, name: str, default: int, **bounds: int) -> int:
        return parse_int(name, self.raw(name, str(default)), **bounds)

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        return parse_float(name, self.raw(name, str(default)), minimum=minimum)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        return parse_choice(name, self.raw(name, default), choices)

    def flag(self, name: str, default: bool) -> bool:
        return parse_bool(name, self.raw(name, str(default)))

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        return parse_url(name, self.raw(name, default), schemes)

    def items(self, name: str, default: str = "") -> tuple[str, ...]:
        return parse_list(self.raw(name, default))


def load_settings(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app config from ``environ``; unset variables get documented defaults."""
    read = EnvReader(environ)
    env = read.choice("FLOWDECK_ENV", "production", ENVIRONMENTS)
    default_db = "sqlite:///" + os.path.join(instance_path, "flowdeck.db")
    amqp_url = read.optional("AMQP_URL")
    return {
        "FLOWDECK_ENV": env,
        "SECRET_KEY": read.raw("SECRET_KEY"),
        "JWT_SECRET": read.raw("JWT_SECRET"),
        "SQLALCHEMY_DATABASE_URI": database_uri(
            read.url("DATABASE_URL", default_db, ("sqlite", "postgresql", "postgres"))
        ),
        "REDIS_URL": read.url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix")),
        "AMQP_URL": parse_url("AMQP_URL", amqp_url, ("amqp", "amqps")) if amqp_url else None,
        "BLOB_DIR": read.raw("BLOB_DIR", os.path.join(instance_path, "blobs")),
        "REGISTRATION_MODE": read.choice("REGISTRATION_MODE", "verify", REGISTRATION_MODES),
        "MAIL_URL": read.optional("MAIL_URL"),
        "LLM_BASE_URL": read.optional("LLM_BASE_URL"),
        "LLM_API_KEY": read.optional("LLM_API_KEY"),
        "LLM_PRICES": parse_prices("LLM_PRICES", read.raw("LLM_PRICES", DEFAULT_LLM_PRICES)),
        "HTTP_ALLOWED_HOSTS": tuple(host.lower() for host in read.items("HTTP_ALLOWED_HOSTS", "127.0.0.1,localhost")),
        "STEP_PLUGINS": read.items("STEP_PLUGINS"),
        "WORKFLOW_MAX_DEFINITION_BYTES": read.integer("WORKFLOW_MAX_DEFINITION_BYTES", 64 * 1024, minimum=1024),
        # A decomposition becomes one workflow, and a workflow holds at most 500 steps.
        "DECOMPOSITION_MAX_TASKS": read.integer("DECOMPOSITION_MAX_TASKS", 500, minimum=1, maximum=500),
        "DECOMPOSITION_MAX_DEPTH": read.integer("DECOMPOSITION_MAX_DEPTH", 8, minimum=1, maximum=50),
        "LOG_FORMAT": read.choice("LOG_FORMAT", "text", LOG_FORMATS),
        "LOG_LEVEL": read.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
        "TRUSTED_PROXIES": read.integer("TRUSTED_PROXIES", 0, minimum=0, maximum=10),
        "LOCKOUT_THRESHOLD": read.integer("LOCKOUT_THRESHOLD", 5, minimum=1, maximum=100),
        "LOCKOUT_MINUTES": read.integer("LOCKOUT_MINUTES", 30, minimum=1),
        "SESSION_IDLE_MINUTES": read.integer("SESSION_IDLE_MINUTES", 30, minimum=1),
        "SESSION_ABSOLUTE_HOURS": read.integer("SESSION_ABSOLUTE_HOURS", 12, minimum=1),
        "REFRESH_TOKEN_DAYS": read.integer("REFRESH_TOKEN_DAYS", 14, minimum=1),
        "EMAIL_TOKEN_HOURS": read.integer("EMAIL_TOKEN_HOURS", 24, minimum=1),
        "PUBLIC_BASE_URL": public_base_url(read, env),
        "RATE_LIMITS": {
            action: read.integer(f"RATE_LIMIT_{action.upper()}", default, minimum=1)
            for action, default in (("login", 10), ("register", 5), ("refresh", 30), ("verify", 5),
                                    ("password", 5), ("admin", 300))
        },
        "MAX_CONTENT_LENGTH": read.integer("MAX_BODY_BYTES", 512 * 1024, minimum=1024),
        "BCRYPT_ROUNDS": read.integer("BCRYPT_ROUNDS", 12, minimum=4, maximum=16),
        "RQ_QUEUES": list(read.items("RQ_QUEUES", "default")) or ["default"],
        "JOB_TIMEOUT": read.integer("JOB_TIMEOUT", 600, minimum=1),
        "JOB_RESULT_TTL": read.integer("JOB_RESULT_TTL", 3600, minimum=0),
        "JOB_FAILURE_TTL": read.integer("JOB_FAILURE_TTL", 7 * 24 * 3600, minimum=0),
        "RECONCILE_INTERVAL_SECONDS": read.number("RECONCILE_INTERVAL_SECONDS", 60),
        "WORKER_MODE": read.choice("WORKER_MODE", "persistent", ("persistent", "fork")),
        **health_settings(read),
        **memory_settings(read),
        **events_settings(read),
        **metrics_settings(read),
        "SESSION_COOKIE_SECURE": read.flag("SESSION_COOKIE_SECURE", env == "production"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "flowdeck_session",
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},  # connections are pinged when they sat idle (webapp/db_ping.py)
    }


def health_settings(read: EnvReader) -> dict[str, Any]:
    """Health checks and probes (README, "Health and probes")."""
    deadline = read.number("HEALTH_DEADLINE_SECONDS", 2, minimum=0.1)
    timeout = read.number("HEALTH_TIMEOUT_SECONDS", 1.5, minimum=0.1)
    if timeout > deadline:
        raise ConfigError("HEALTH_TIMEOUT_SECONDS must not exceed HEALTH_DEADLINE_SECONDS")
    return {
        "HEALTH_TOKEN": read.optional("HEALTH_TOKEN"),
        "HEALTH_DEADLINE_SECONDS": deadline,
        "HEALTH_TIMEOUT_SECONDS": timeout,
        "HEALTH_CACHE_SECONDS": read.number("HEALTH_CACHE_SECONDS", 2),
        "HEALTH_SLOW_MS": read.number("HEALTH_SLOW_MS", 500, minimum=1),
        "HEALTH_QUEUE_BACKLOG": read.integer("HEALTH_QUEUE_BACKLOG", 100, minimum=0),
        "HEALTH_HEARTBEAT_SECONDS": read.integer("HEALTH_HEARTBEAT_SECONDS", 480, minimum=1),
        "HEALTH_POLL_SECONDS": read.integer("HEALTH_POLL_SECONDS", 5, minimum=1, maximum=3600),
        "OVERVIEW_CACHE_SECONDS": read.number("OVERVIEW_CACHE_SECONDS", 2),
        "HEALTH_HISTORY_SIZE": read.integer("HEALTH_HISTORY_SIZE", 120, minimum=1, maximum=10000),
    }


def public_base_url(read: EnvReader, env: str) -> str | None:
    """Where users reach the console, for links in mail: never taken from the request's Host
    header, which any client can set. Required in production; elsewhere the local console."""
    raw = read.optional("PUBLIC_BASE_URL")
    if raw is None:
        return None if env == "production" else "http://127.0.0.1:5000"
    value = parse_url("PUBLIC_BASE_URL", raw, ("http", "https")).rstrip("/")
    if urlsplit(value).query or urlsplit(value).fragment:
        raise ConfigError(f"PUBLIC_BASE_URL must be a plain origin with an optional path, got {raw!r}")
    return value


def metrics_settings(read: EnvReader) -> dict[str, Any]:
    """``/metrics`` (README, "Operating Flowdeck"): open to METRICS_TOKEN or METRICS_ALLOWED_NETWORKS only.

    With neither set, every scrape is refused: metrics name workflows and budgets, so they are
    never open to the world by default. WORKER_METRICS_PORT (0 = off) serves a worker's step
    metrics from its parent process.
    """
    return {
        "METRICS_TOKEN": read.optional("METRICS_TOKEN"),
        "METRICS_ALLOWED_NETWORKS": parse_networks("METRICS_ALLOWED_NETWORKS", read.raw("METRICS_ALLOWED_NETWORKS")),
        "WORKER_METRICS_PORT": read.integer("WORKER_METRICS_PORT", 0, minimum=0, maximum=65535),
    }


def parse_networks(name: str, raw: str) -> tuple[Any, ...]:
    """Comma-separated CIDR networks (``10.0.0.0/8,127.0.0.1/32``)."""
    networks = []
    for item in parse_list(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name} entries must be networks such as 10.0.0.0/8, got {item!r}") from None
    return tuple(networks)


def parse_seconds_list(name: str, raw: str) -> tuple[float, ...]:
    values = tuple(parse_float(name, item) for item in parse_list(raw))
    if not values:
        raise ConfigError(f"{name} must list at least one delay in seconds")
    return values


def events_settings(read: EnvReader) -> dict[str, Any]:
    """The event bus and webhooks (README, "Events and webhooks")."""
    return {
        "EVENTS_BATCH_SIZE": read.integer("EVENTS_BATCH_SIZE", 200, minimum=1, maximum=5000),
        "EVENTS_POLL_SECONDS": read.number("EVENTS_POLL_SECONDS", 5, minimum=0.05),
        "EVENTS_MAX_ATTEMPTS": read.integer("EVENTS_MAX_ATTEMPTS", 5, minimum=1, maximum=100),
        "EVENTS_RETRY_SECONDS": read.number("EVENTS_RETRY_SECONDS", 2),
        "EVENTS_MAX_BYTES": read.integer("EVENTS_MAX_BYTES", 1024 * 1024, minimum=1024),
        "EVENTS_RETENTION_DAYS": read.integer("EVENTS_RETENTION_DAYS", 7, minimum=1),
        "EVENTS_BACKLOG_SECONDS": read.number("EVENTS_BACKLOG_SECONDS", 60, minimum=1),
        "EVENTS_STREAM_MAX_SECONDS": read.number("EVENTS_STREAM_MAX_SECONDS", 300, minimum=1),
        "EVENTS_DISPATCH_IN_WORKER": read.flag("EVENTS_DISPATCH_IN_WORKER", False),
        "WEBHOOK_ALLOWED_HOSTS": tuple(host.lower() for host in read.items("WEBHOOK_ALLOWED_HOSTS")),
        "WEBHOOK_ALLOWED_NETWORKS": parse_networks("WEBHOOK_ALLOWED_NETWORKS", read.raw("WEBHOOK_ALLOWED_NETWORKS")),
        "WEBHOOK_RETRY_SCHEDULE": parse_seconds_list(
            "WEBHOOK_RETRY_SCHEDULE", read.raw("WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")),
        "WEBHOOK_DISABLE_FAILURES": read.integer("WEBHOOK_DISABLE_FAILURES", 15, minimum=1),
        "WEBHOOK_DISABLE_DAYS": read.number("WEBHOOK_DISABLE_DAYS", 5),
    }


def memory_settings(read: EnvReader) -> dict[str, Any]:
    """The memory tiers (README, "Memory"; docs/memory.md)."""
    return {
        "MEMORY_BLOB_THRESHOLD_BYTES": read.integer("MEMORY_BLOB_THRESHOLD_BYTES", 64 * 1024, minimum=1),
        "MEMORY_MAX_VALUE_BYTES": read.integer("MEMORY_MAX_VALUE_BYTES", 8 * 1024 * 1024, minimum=1024,
                                               maximum=1024 * 1024 * 1024),
        "MEMORY_L1_MAX_BYTES": read.integer("MEMORY_L1_MAX_BYTES", 64 * 1024 * 1024, minimum=0),
        "MEMORY_L1_MAX_ENTRIES": read.integer("MEMORY_L1_MAX_ENTRIES", 10_000, minimum=0),
        "MEMORY_L1_TTL_SECONDS": read.number("MEMORY_L1_TTL_SECONDS", 30, minimum=0.001),
        "MEMORY_L2_TTL_SECONDS": read.integer("MEMORY_L2_TTL_SECONDS", 3600, minimum=1),
        "MEMORY_L2_MAX_BYTES": read.integer("MEMORY_L2_MAX_BYTES", 1024 * 1024, minimum=0),
        "MEMORY_LOCK_TIMEOUT_SECONDS": read.number("MEMORY_LOCK_TIMEOUT_SECONDS", 30, minimum=0.1),
        "MEMORY_LOCK_WAIT_SECONDS": read.number("MEMORY_LOCK_WAIT_SECONDS", 15, minimum=0),
        "MEMORY_BLOB_GRACE_SECONDS": read.integer("MEMORY_BLOB_GRACE_SECONDS", 3600, minimum=0),
    }


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse to boot production with secrets that are missing, short or well known."""
    if config["FLOWDECK_ENV"] != "production":
        return
    for name in ("SECRET_KEY", "JWT_SECRET"):
        value = config.get(name) or ""
        if value in KNOWN_WEAK_SECRETS or len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"{name} must be set to a random value of at least {MIN_SECRET_BYTES} bytes in production "
                f"(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    if config["SECRET_KEY"] == config["JWT_SECRET"]:
        raise ConfigError("JWT_SECRET must differ from SECRET_KEY")
    if config["BCRYPT_ROUNDS"] < 12:
        raise ConfigError("BCRYPT_ROUNDS must be at least 12 in production")
    if not config.get("PUBLIC_BASE_URL"):
        raise ConfigError("PUBLIC_BASE_URL must be set in production: the console's address, used in "
                          "emailed links (for example https://flowdeck.example.com)")
