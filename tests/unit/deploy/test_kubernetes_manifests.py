"""deploy/kubernetes validates against the Kubernetes schemas (shipped offline by
kubernetes-validate) and carries the production settings an operator expects."""
from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT
from webapp.config import ConfigError, check_settings, load_settings

MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.33.0"


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources() -> list[tuple[str, dict]]:
    return [(f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
            for path in sorted(MANIFESTS.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in documents(path)]


def resource(kind: str, name: str) -> dict:
    return next(doc for _, doc in resources() if doc["kind"] == kind and doc["metadata"]["name"] == name)


def pod_specs() -> list[tuple[str, dict]]:
    return [(label, doc["spec"]["template"]["spec"]) for label, doc in resources()
            if doc["kind"] in ("Deployment", "Job")]


@pytest.mark.parametrize("label,doc", resources(), ids=[label for label, _ in resources()])
def test_every_manifest_validates_against_the_kubernetes_schema(label, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_rejects_a_misspelt_field():
    broken = copy.deepcopy(resource("Deployment", "flowdeck-web"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_web_pods_probe_live_for_startup_and_liveness_and_ready_for_readiness():
    web = resource("Deployment", "flowdeck-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["startupProbe"]["httpGet"]["path"] == "/api/v3/health/live"
    assert web["livenessProbe"]["httpGet"]["path"] == "/api/v3/health/live"
    assert web["readinessProbe"]["httpGet"]["path"] == "/api/v3/health/ready"


@pytest.mark.parametrize("label,spec", pod_specs(), ids=[label for label, _ in pod_specs()])
def test_every_pod_runs_non_root_on_a_read_only_root_with_no_capabilities_and_bounded_resources(label, spec):
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] > 0
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert any(mount["mountPath"] == "/tmp" for mount in container["volumeMounts"])


def test_a_stopping_worker_is_given_longer_than_the_step_timeout():
    timeout = int(resource("ConfigMap", "flowdeck")["data"]["JOB_TIMEOUT"])
    grace = resource("Deployment", "flowdeck-worker")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > timeout


def test_the_dispatcher_and_migration_run_the_real_commands():
    dispatcher = resource("Deployment", "flowdeck-dispatcher")["spec"]["template"]["spec"]["containers"][0]
    assert dispatcher["command"] == ["flask", "events", "dispatch"]
    migrate = resource("Job", "flowdeck-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"] == ["flask", "db", "upgrade"]


def test_web_and_workers_have_disruption_budgets_and_the_web_autoscales():
    assert resource("PodDisruptionBudget", "flowdeck-web")["spec"]["minAvailable"] >= 1
    assert resource("PodDisruptionBudget", "flowdeck-worker")["spec"]["maxUnavailable"] == 1
    hpa = resource("HorizontalPodAutoscaler", "flowdeck-web")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "flowdeck-web" and hpa["minReplicas"] >= 2


def test_kustomize_applies_everything_but_the_migration_job_and_the_secret_example():
    listed = set(yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"])
    files = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {"migrate-job.yaml", "secret.example.yaml"}


def test_the_configmap_parses_as_valid_settings_and_the_example_secret_is_refused_in_production(tmp_path):
    environ = {**resource("ConfigMap", "flowdeck")["data"], **resource("Secret", "flowdeck")["stringData"]}
    settings = load_settings(environ, str(tmp_path))
    assert settings["WORKER_METRICS_PORT"] == 9100 and settings["METRICS_ALLOWED_NETWORKS"]
    with pytest.raises(ConfigError, match="SECRET_KEY|JWT_SECRET"):
        check_settings(settings)
