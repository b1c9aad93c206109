"""The step settings: LLM price table, HTTP allow-list, plugins, definition size limit."""
from decimal import Decimal

import pytest

from webapp.config import ConfigError, load_settings


def settings(**env):
    return load_settings(env, "/tmp/instance")


def test_defaults_price_the_local_models_and_allow_only_this_machine():
    config = settings()
    assert config["LLM_PRICES"] == {"local-small": (Decimal("0.0005"), Decimal("0.0015")),
                                    "local-large": (Decimal("0.003"), Decimal("0.006"))}
    assert config["HTTP_ALLOWED_HOSTS"] == ("127.0.0.1", "localhost")
    assert config["STEP_PLUGINS"] == () and config["WORKFLOW_MAX_DEFINITION_BYTES"] == 65536


def test_prices_hosts_and_plugins_are_parsed_from_lists():
    config = settings(LLM_PRICES="gpt-4o=0.0025:0.01, local-small = 0:0", HTTP_ALLOWED_HOSTS="API.Example.org, ,x",
                      STEP_PLUGINS="acme.steps,acme.more")
    assert config["LLM_PRICES"] == {"gpt-4o": (Decimal("0.0025"), Decimal("0.01")), "local-small": (0, 0)}
    assert config["HTTP_ALLOWED_HOSTS"] == ("api.example.org", "x")
    assert config["STEP_PLUGINS"] == ("acme.steps", "acme.more")


@pytest.mark.parametrize("raw", ["gpt", "gpt=1", "gpt=a:b", "=1:2", "gpt=-1:2", "gpt=NaN:1", "gpt=1:Infinity"])
def test_a_malformed_price_table_stops_the_app_at_boot(raw):
    with pytest.raises(ConfigError, match="LLM_PRICES entries look like model=0.0005:0.0015"):
        settings(LLM_PRICES=raw)


def test_a_tiny_definition_limit_is_refused():
    with pytest.raises(ConfigError, match="WORKFLOW_MAX_DEFINITION_BYTES must be at least 1024"):
        settings(WORKFLOW_MAX_DEFINITION_BYTES="10")
