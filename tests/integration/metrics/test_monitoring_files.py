"""deploy/prometheus/alerts.yml and the Grafana dashboard: valid, complete, and about metrics
that Flowdeck really exposes (no promtool on PyPI: YAML structure plus a PromQL parser)."""
from __future__ import annotations

import json
import re

import promql_parser
import pytest
import yaml

from tests.conftest import ROOT

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "flowdeck.json"
METRIC = re.compile(r"\bflowdeck_[a-z_]+\b")
TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
REQUIRED_ALERTS = {"FlowdeckNoLiveWorker", "FlowdeckQueueBacklog", "FlowdeckStepCrashRate",
                   "FlowdeckBudgetNearLimit", "FlowdeckEventsBacklog", "FlowdeckUnhealthy"}


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]


def test_the_alert_rules_cover_what_an_operator_is_paged_for():
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules()}


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_every_alert_parses_as_promql_and_says_how_bad_and_why(rule):
    promql_parser.parse(rule["expr"])
    assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_promql_check_rejects_a_broken_expression():
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(flowdeck_workers[5m])")


@pytest.mark.parametrize("expr", dashboard_expressions())
def test_every_dashboard_query_parses_as_promql(expr):
    promql_parser.parse(expr.replace("$__rate_interval", "5m"))


def exposed_names(text: str) -> set[str]:
    names = set()
    for name, kind in TYPE_LINE.findall(text):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_alerts_and_dashboard_only_use_metrics_flowdeck_exposes(client, metrics_token):
    text = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).get_data(as_text=True)
    used = {name for expr in [rule["expr"] for rule in rules()] + dashboard_expressions()
            for name in METRIC.findall(expr)}
    assert used and used <= exposed_names(text), used - exposed_names(text)
