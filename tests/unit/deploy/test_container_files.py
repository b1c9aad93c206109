"""Dockerfile, compose.yaml and Procfile: what can be checked without pulling a base image
(this machine cannot): the image installs from the hashed lock and runs as non-root, the
compose file validates against the Compose specification's schema, the processes are right."""
from __future__ import annotations

import copy
import re
import shlex

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
INSTRUCTION = re.compile(r"^(FROM|RUN|COPY|USER|CMD|ENV|WORKDIR|EXPOSE)\s+(.*?)(?<!\\)$", re.MULTILINE | re.DOTALL)


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [(match.group(1), match.group(2).strip()) for match in INSTRUCTION.finditer(joined)]


def test_the_image_is_multi_stage_on_slim_python_3_11():
    bases = [args for op, args in instructions() if op == "FROM"]
    assert len(bases) >= 2 and all(base.startswith("python:3.11-slim") for base in bases)


def test_packages_come_only_from_the_hashed_runtime_lock():
    installs = [args for op, args in instructions() if op == "RUN" and "pip install" in args]
    assert installs and all("--require-hashes" in args and "requirements.lock" in args for args in installs)
    assert "requirements-dev" not in DOCKERFILE


def test_the_final_stage_runs_as_a_numeric_non_root_user():
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert users and users[-1].split(":")[0].isdigit() and int(users[-1].split(":")[0]) > 0


def test_the_default_command_is_gunicorn_in_exec_form_with_the_metrics_hooks():
    command = [args for op, args in instructions() if op == "CMD"][-1]
    assert command.startswith("[") and "python:webapp.metrics.gunicorn_conf" in command


def compose_schema() -> dict:
    return get_builtin_schema("vendor.compose-spec")


def test_compose_file_validates_against_the_compose_specification():
    jsonschema.validate(COMPOSE, compose_schema())


def test_the_compose_check_rejects_an_unknown_service_key():
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["web"]["portz"] = ["8000:8000"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def resolved_services() -> dict:
    return COMPOSE["services"]  # PyYAML has already applied the x-flowdeck merge keys


def test_compose_runs_web_worker_dispatcher_and_their_services():
    assert {"web", "worker", "dispatcher", "migrate", "postgres", "redis", "rabbitmq"} <= set(resolved_services())
    assert resolved_services()["worker"]["command"] == ["flask", "worker"]
    assert resolved_services()["dispatcher"]["command"] == ["flask", "events", "dispatch"]


@pytest.mark.parametrize("name", ["web", "worker", "dispatcher", "migrate"])
def test_flowdeck_services_are_non_root_read_only_without_capabilities(name):
    service = resolved_services()[name]
    assert service["user"].split(":")[0] != "0" and service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]


def test_redis_never_evicts_queue_keys():
    assert "noeviction" in resolved_services()["redis"]["command"]


def test_the_procfile_names_web_worker_and_dispatcher():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert shlex.split(processes["worker"]) == ["flask", "worker"]
    assert shlex.split(processes["dispatcher"]) == ["flask", "events", "dispatch"]
    assert "gunicorn" in processes["web"] and "webapp.metrics.gunicorn_conf" in processes["web"]
    assert shlex.split(processes["release"]) == ["flask", "db", "upgrade"]
