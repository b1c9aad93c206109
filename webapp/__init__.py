"""The Flowdeck web app, built by ``create_app`` from small register_* steps."""
from __future__ import annotations

import logging
import os
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import logs
from webapp.config import check_settings, load_settings
from webapp.extensions import csrf, db, htmx, login_manager, migrate

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``config`` overrides settings (tests use it)."""
    instance_path = os.path.abspath(os.environ.get("FLOWDECK_INSTANCE_DIR", "instance"))
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(load_settings(os.environ, instance_path))
    app.config.update(config or {})
    fill_development_secrets(app)
    check_settings(app.config)
    logs.configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    if app.config["TRUSTED_PROXIES"]:
        # The one place X-Forwarded-For is read: remote_addr becomes the N-th address from the right.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    register_extensions(app)
    register_request_ids(app)
    register_request_guards(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def fill_development_secrets(app: Flask) -> None:
    """Outside production a missing secret becomes a random per-process one, with a warning.

    ``make run`` keeps stable ones in instance/dev.env, so this only bites ad-hoc runs.
    """
    if app.config["FLOWDECK_ENV"] == "production":
        return
    for name in ("SECRET_KEY", "JWT_SECRET"):
        if not app.config.get(name):
            logging.getLogger(__name__).warning("%s is not set; using a random one for this process", name)
            app.config[name] = secrets.token_urlsafe(48)


def register_extensions(app: Flask) -> None:
    import webapp.models  # noqa: F401  (complete metadata before migrate binds to it)
    from webapp.auth.identity import init_identity
    from webapp.db_ping import ping_when_idle
    from webapp.security import register_security
    from webapp.sessions_teardown import register_session_teardown
    from webapp.steps.registry import load_plugins as load_step_plugins

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine)
    register_session_teardown(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    init_identity(login_manager)
    csrf.init_app(app)
    htmx.init_app(app)
    register_security(app)
    load_step_plugins(app.config["STEP_PLUGINS"])


def register_request_ids(app: Flask) -> None:
    """Take a sane incoming X-Request-ID (from a proxy) or make one; echo it on the response."""

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        logs.bind(request_id=g.request_id)

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response


def register_request_guards(app: Flask) -> None:
    """Refusals at the door (query-string encoding, rate limits) and output every page can encode."""
    from webapp.api.inputs import init_input_checks
    from webapp.auth.ratelimit import init_ratelimits
    from webapp.fragments import init_safe_rendering

    init_input_checks(app)
    init_ratelimits(app)
    init_safe_rendering(app)


def register_blueprints(app: Flask) -> None:
    from webapp.api import create_api_blueprint
    from webapp.api.docs import bp as api_docs_bp
    from webapp.api.inputs import IdConverter
    from webapp.api.openapi import bp as openapi_bp
    from webapp.audit.api import bp as audit_api_bp
    from webapp.audit.views import bp as audit_bp
    from webapp.auth.account_views import bp as account_bp
    from webapp.auth.api import bp as auth_api_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.console.saved_filters import bp as saved_filters_bp
    from webapp.console.views import bp as console_bp
    from webapp.costs.api import bp as costs_api_bp
    from webapp.costs.views import bp as costs_bp
    from webapp.decomposition.api import bp as decompositions_api_bp
    from webapp.decomposition.views import bp as decompositions_bp
    from webapp.events.api import bp as events_api_bp
    from webapp.events.views import bp as events_bp
    from webapp.events.webhooks.api import bp as webhooks_api_bp
    from webapp.events.webhooks.views import bp as webhooks_bp
    from webapp.formatting import register_filters
    from webapp.health.api import bp as health_api_bp
    from webapp.health.views import bp as health_bp
    from webapp.mail.views import bp as mail_bp
    from webapp.memory.api import bp as memory_api_bp
    from webapp.memory.views import bp as memory_bp
    from webapp.metrics.views import init_metrics
    from webapp.navigation import NavItem, add_nav_item, nav_groups, nav_items
    from webapp.runs.api import bp as runs_api_bp
    from webapp.runs.views import bp as runs_bp
    from webapp.users.api import bp as users_api_bp
    from webapp.users.invite_views import bp as invites_bp
    from webapp.users.views import bp as users_bp
    from webapp.workers.api import bp as workers_api_bp
    from webapp.workers.views import bp as workers_bp
    from webapp.workflows.api import bp as workflows_api_bp
    from webapp.workflows.views import bp as workflows_bp

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(invites_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(saved_filters_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(workers_bp)
    app.register_blueprint(runs_bp)
    app.register_blueprint(workflows_bp)
    app.register_blueprint(memory_bp)
    app.register_blueprint(costs_bp)
    app.register_blueprint(decompositions_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(create_api_blueprint([
        auth_api_bp, users_api_bp, audit_api_bp, health_api_bp, workers_api_bp, workflows_api_bp, runs_api_bp,
        costs_api_bp, decompositions_api_bp,
        events_api_bp, webhooks_api_bp,
        memory_api_bp, openapi_bp,
    ]))
    add_nav_item(app, NavItem("Overview", "console.overview", order=0))
    add_nav_item(app, NavItem("Health", "health.panel", order=80, group="resources"))
    add_nav_item(app, NavItem("Runs", "runs.index", order=20))
    add_nav_item(app, NavItem("Users", "users.index", "admin", order=90, group="admin"))
    add_nav_item(app, NavItem("Audit", "audit.index", "admin", order=91, group="admin"))
    add_nav_item(app, NavItem("Mail", "mail.outbox", "admin", order=92, group="admin"))
    add_nav_item(app, NavItem("Account", "account.account", order=99, group="account"))
    add_nav_item(app, NavItem("Workers", "workers.index", order=85, group="resources"))
    add_nav_item(app, NavItem("Memory", "memory.index", order=86, group="resources"))
    add_nav_item(app, NavItem("Costs", "costs.dashboard", order=70, group="resources"))
    add_nav_item(app, NavItem("Events", "events.index", order=93, group="admin"))
    add_nav_item(app, NavItem("Webhooks", "webhooks.index", "admin", order=94, group="admin"))
    add_nav_item(app, NavItem("Workflows", "workflows.index", order=10))
    add_nav_item(app, NavItem("Decompositions", "decompositions.index", order=30, group="operate"))
    init_metrics(app)
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["nav_groups"] = nav_groups
    register_filters(app)


def register_errorhandlers(app: Flask) -> None:
    from webapp.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from jobs.cli import jobs_cli
    from jobs.worker import worker_command
    from webapp.costs.cli import costs_cli
    from webapp.decomposition.cli import decompositions_cli
    from webapp.demo.cli import seed_demo_command
    from webapp.events.cli import events_cli
    from webapp.health.cli import health_command
    from webapp.memory.cli import memory_cli
    from webapp.runs.cli import reconcile_command, run_command
    from webapp.users.cli import users_cli
    from webapp.workflows.cli import workflows_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(health_command)
    app.cli.add_command(memory_cli)
    app.cli.add_command(workflows_cli)
    workflows_cli.add_command(run_command)
    app.cli.add_command(reconcile_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(decompositions_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(costs_cli)
