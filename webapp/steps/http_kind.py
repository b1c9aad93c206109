"""``http.request``: one HTTP call to a host on the ``HTTP_ALLOWED_HOSTS`` list (docs/security.md §29).

Redirects are not followed (a redirect could leave the allow-list) and environment proxies are
ignored; the 3xx comes back as the output. A status of 400 or more fails the step, so the
engine's retry policy applies to flaky servers. Bodies are capped at ``MAX_RESPONSE_BYTES``.
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import current_app
from pydantic import Field

from webapp.steps.base import StepContext, StepFailed, StepInputs, StepKind, StepResult
from webapp.steps.registry import register

MAX_RESPONSE_BYTES = 1024 * 1024


class HttpInputs(StepInputs):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(min_length=1, max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = Field(default=None, max_length=1_000_000)
    timeout: float = Field(default=30, gt=0, le=300)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def allowed_host(url: str) -> str:
    """The URL's host if it is http(s) and on the allow-list; otherwise ``StepFailed``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StepFailed(f"http.request needs an http:// or https:// URL with a host, got {url!r}", retryable=False)
    allowed = current_app.config["HTTP_ALLOWED_HOSTS"]
    if parts.hostname.lower() not in allowed:
        raise StepFailed(f"host {parts.hostname!r} is not in HTTP_ALLOWED_HOSTS ({', '.join(allowed)})",
                         retryable=False)
    return parts.hostname


@register
class HttpRequest(StepKind):
    name = "http.request"
    memoizable = False
    input_schema = HttpInputs
    description = "Calls an allowed HTTP host; the output is {status, headers, body} (and json when the body is JSON)."

    def execute(self, inputs: HttpInputs, context: StepContext) -> StepResult:
        allowed_host(inputs.url)
        if inputs.json_body is not None and inputs.body is not None:
            raise StepFailed("give either json or body, not both", retryable=False)
        headers = dict(inputs.headers)
        data = None
        if inputs.json_body is not None:
            data = json.dumps(inputs.json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif inputs.body is not None:
            data = inputs.body.encode()
        # allowed_host() above admits only http(s) URLs to allowed hosts.
        request = urllib.request.Request(inputs.url, data=data, headers=headers, method=inputs.method)  # noqa: S310
        try:
            with _opener.open(request, timeout=inputs.timeout) as response:
                return StepResult(output=_output(response.status, response.headers, response))
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                return StepResult(output=_output(error.code, error.headers, error))
            raise StepFailed(f"{inputs.method} {inputs.url} answered {error.code} {error.reason}") from None
        except TimeoutError:
            raise StepFailed(f"{inputs.method} {inputs.url} timed out after {inputs.timeout:g}s") from None
        except urllib.error.URLError as error:
            raise StepFailed(f"{inputs.method} {inputs.url} failed: {error.reason}") from None
        except OSError as error:
            raise StepFailed(f"{inputs.method} {inputs.url} failed: {error}") from None
        except (ValueError, http.client.HTTPException) as error:  # bad port, CR/LF in a header, garbled reply
            raise StepFailed(f"{inputs.method} {inputs.url} is not a valid request: {error}") from None


def _output(status: int, headers, stream) -> dict[str, Any]:
    raw = stream.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise StepFailed(f"the response body is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        body = raw.decode(headers.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        body = raw.decode("utf-8", errors="replace")
    output: dict[str, Any] = {"status": status, "headers": dict(headers.items()), "body": body}
    if headers.get_content_type() == "application/json":
        try:
            output["json"] = json.loads(body)
        except ValueError:
            pass
    return output
