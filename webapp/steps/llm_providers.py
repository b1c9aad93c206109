"""LLM providers for ``llm.complete``, the token counter and the price table.

``local`` is offline and deterministic: it counts tokens with a word/punctuation tokenizer and
answers with a fixed transformation of the prompt, so demos and tests cost real (small) money
without a network. With ``LLM_BASE_URL`` set, the OpenAI-compatible provider calls
``POST {LLM_BASE_URL}/chat/completions`` and takes token counts from its ``usage``.
Prices are Decimal per 1,000 tokens, in and out, from the price table (webapp/costs/prices.py),
which ``LLM_PRICES`` seeds.
"""
from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app

from webapp.clock import utcnow
from webapp.costs.prices import price_at, priced_models
from webapp.steps.base import StepFailed

TOKEN = re.compile(r"\w+|[^\w\s]")
THOUSAND = Decimal(1000)
HTTP_TIMEOUT_SECONDS = 60


def count_tokens(text: str) -> int:
    """Words and punctuation marks each count as one token."""
    return len(TOKEN.findall(text))


@dataclass(frozen=True)
class Price:
    per_1k_in: Decimal
    per_1k_out: Decimal


@dataclass(frozen=True)
class Completion:
    text: str
    tokens_in: int
    tokens_out: int


class Provider(Protocol):
    name: str

    def complete(self, model: str, prompt: str, max_tokens: int) -> Completion: ...


def price_for(model: str) -> Price:
    """The price in force now in the price table (``LLM_PRICES`` plus admins' dated prices)."""
    row = price_at(model, utcnow())
    if row is None:
        raise StepFailed(f"model {model!r} has no price in LLM_PRICES or the price table "
                         f"(priced: {', '.join(priced_models())})", retryable=False)
    return Price(row.input_per_1k, row.output_per_1k)


def cost_of(price: Price, tokens_in: int, tokens_out: int) -> Decimal:
    return (price.per_1k_in * tokens_in + price.per_1k_out * tokens_out) / THOUSAND


class LocalProvider:
    """Answers "<model> says: " plus the prompt's tokens in reverse order, cut at ``max_tokens``."""

    name = "local"

    def complete(self, model: str, prompt: str, max_tokens: int) -> Completion:
        tokens = TOKEN.findall(prompt)
        reply = (TOKEN.findall(f"{model} says:") + tokens[::-1])[:max_tokens]
        return Completion(text=" ".join(reply), tokens_in=len(tokens), tokens_out=len(reply))


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, base_url: str, api_key: str | None) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise StepFailed(f"LLM_BASE_URL must be an http:// or https:// URL, got {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key

    def complete(self, model: str, prompt: str, max_tokens: int) -> Completion:
        payload = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(),  # noqa: S310 (scheme checked)
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = json.loads(response.read())
            usage = answer["usage"]
            return Completion(text=answer["choices"][0]["message"]["content"],
                              tokens_in=int(usage["prompt_tokens"]), tokens_out=int(usage["completion_tokens"]))
        except urllib.error.HTTPError as error:
            raise StepFailed(f"the LLM provider answered {error.code} {error.reason}") from None
        except (OSError, http.client.HTTPException) as error:
            raise StepFailed(f"the LLM provider at {self.url} is unreachable: {error}") from None
        except (ValueError, KeyError, IndexError, TypeError):
            raise StepFailed("the LLM provider's answer is not an OpenAI chat completion") from None


def current_provider() -> Provider:
    base_url = current_app.config.get("LLM_BASE_URL")
    if base_url:
        return OpenAICompatibleProvider(base_url, current_app.config.get("LLM_API_KEY"))
    return LocalProvider()
