"""``llm.complete``: the offline provider counts tokens for real and prices them in Decimal."""
from decimal import Decimal

import pytest

from tests.integration.step_servers import local_http_server
from webapp.steps.base import CostLine, StepContext, StepFailed
from webapp.steps.llm_providers import count_tokens
from webapp.steps.registry import get_kind

CONTEXT = StepContext(run_id=1, step_id="answer", attempt=1, params={}, outputs={})


@pytest.fixture
def llm(app):
    with app.app_context():
        kind = get_kind("llm.complete")
        yield kind, lambda **with_: kind.execute(kind.parse_inputs(with_), CONTEXT)


def test_tokens_are_words_and_punctuation_marks():
    assert count_tokens("Hello, world! It's 2026.") == 9  # Hello , world ! It ' s 2026 .
    assert count_tokens("") == 0


def test_local_provider_is_deterministic_and_reports_real_token_counts(llm):
    _, call = llm
    first = call(model="local-small", prompt="Hello, world!")
    second = call(model="local-small", prompt="Hello, world!")
    assert first == second
    output = first.output
    assert output["text"] == "local - small says : ! world , Hello"
    assert output["tokens_in"] == 4 == count_tokens("Hello, world!")
    assert output["tokens_out"] == 9 == count_tokens(output["text"])
    assert output["provider"] == "local" and output["model"] == "local-small"


def test_cost_is_tokens_times_the_price_table_in_decimal(llm):
    _, call = llm
    cost = call(model="local-small", prompt="Hello, world!").cost
    # local-small: 0.0005 in / 0.0015 out per 1,000 tokens; 4 tokens in, 9 out.
    assert cost == CostLine(kind="llm", model="local-small", units_in=4, units_out=9,
                            unit_price_in=Decimal("0.0000005"), unit_price_out=Decimal("0.0000015"),
                            amount=Decimal("0.0000155"), currency="USD")
    assert isinstance(cost.amount, Decimal)


def test_max_tokens_caps_the_answer(llm):
    _, call = llm
    output = call(model="local-large", prompt="one two three four five six", max_tokens=5).output
    assert output["tokens_out"] == 5 and output["text"] == "local - large says :"


def test_estimate_is_the_prompt_plus_max_tokens(llm):
    kind, _ = llm
    inputs = kind.parse_inputs({"model": "local-large", "prompt": "a b c d", "max_tokens": 100})
    assert kind.estimate_cost(inputs) == (Decimal("0.003") * 4 + Decimal("0.006") * 100) / 1000


def test_a_model_without_a_price_is_refused(llm):
    _, call = llm
    with pytest.raises(StepFailed, match="model 'gpt-9' has no price in LLM_PRICES"):
        call(model="gpt-9", prompt="hi")


def test_prices_come_from_the_setting(llm, app, monkeypatch):
    _, call = llm
    monkeypatch.setitem(app.config, "LLM_PRICES", {"local-small": (Decimal("1"), Decimal("2"))})
    assert call(model="local-small", prompt="Hello, world!").cost.amount == Decimal("0.022")


def test_with_llm_base_url_the_openai_compatible_provider_is_used(llm, app, monkeypatch):
    _, call = llm
    with local_http_server() as (base_url, server):
        monkeypatch.setitem(app.config, "LLM_BASE_URL", f"{base_url}/v1")
        monkeypatch.setitem(app.config, "LLM_API_KEY", "sk-test")
        monkeypatch.setitem(app.config, "LLM_PRICES", {"gpt-x": (Decimal("0.01"), Decimal("0.03"))})
        result = call(model="gpt-x", prompt="Hello", max_tokens=50)
    assert result.output == {"text": "remote answer", "model": "gpt-x", "provider": "openai",
                             "tokens_in": 1200, "tokens_out": 300}
    assert result.cost.amount == Decimal("0.021")
    _, path, headers, body = server.requests[-1]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert b'"max_tokens": 50' in body


def test_an_unreachable_provider_is_a_step_failure(llm, app, monkeypatch):
    _, call = llm
    with local_http_server() as (base_url, _):
        pass  # closed again: nothing listens there now
    monkeypatch.setitem(app.config, "LLM_BASE_URL", base_url)
    with pytest.raises(StepFailed, match="unreachable"):
        call(model="local-small", prompt="hi")
