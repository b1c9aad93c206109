"""``http.request`` against a real HTTP server on 127.0.0.1, and its host allow-list."""
import pytest

from tests.integration.step_servers import local_http_server
from webapp.steps.base import StepContext, StepFailed
from webapp.steps.registry import get_kind

CONTEXT = StepContext(run_id=1, step_id="fetch", attempt=1, params={}, outputs={}, should_stop=lambda: False)


@pytest.fixture
def http(app):
    with app.app_context(), local_http_server() as (base_url, server):
        kind = get_kind("http.request")
        yield lambda **with_: kind.execute(kind.parse_inputs(with_), CONTEXT), base_url, server


def test_get_returns_status_headers_body_and_parsed_json(http):
    call, base, _ = http
    output = call(url=f"{base}/json").output
    assert output["status"] == 200 and output["json"] == {"greeting": "hello"}
    assert output["body"] == '{"greeting": "hello"}' and output["headers"]["Content-Type"] == "application/json"


def test_text_bodies_are_decoded_with_their_charset(http):
    call, base, _ = http
    assert call(url=f"{base}/text").output["body"] == "héllo"


def test_post_sends_json_and_headers(http):
    call, base, server = http
    output = call(method="POST", url=f"{base}/things", json={"a": [1, 2]}, headers={"X-Trace": "t1"}).output
    assert output["status"] == 201 and output["json"] == {"echo": {"a": [1, 2]}}
    method, path, headers, body = server.requests[-1]
    assert headers["X-Trace"] == "t1" and headers["Content-Type"] == "application/json" and body == b'{"a": [1, 2]}'


def test_an_error_status_fails_the_step_so_retries_apply(http):
    call, base, _ = http
    with pytest.raises(StepFailed, match="answered 503"):
        call(url=f"{base}/broken")


def test_redirects_are_returned_not_followed_so_they_cannot_leave_the_allow_list(http):
    call, base, server = http
    output = call(url=f"{base}/redirect").output
    assert output["status"] == 302 and output["headers"]["Location"] == "http://example.com/"
    assert len(server.requests) == 1


def test_a_slow_server_times_out_with_a_clear_error(http):
    call, base, _ = http
    with pytest.raises(StepFailed, match="timed out after 0.3s"):
        call(url=f"{base}/slow", timeout=0.3)


def test_a_huge_response_is_refused(http):
    call, base, _ = http
    with pytest.raises(StepFailed, match="larger than 1048576 bytes"):
        call(url=f"{base}/huge")


@pytest.mark.parametrize("url", ["http://example.com/", "https://169.254.169.254/latest/meta-data",
                                 "http://127.0.0.1.nip.io/", "http://10.0.0.1/"])
def test_hosts_outside_the_allow_list_are_refused_before_any_connection(http, url):
    call, _, _ = http
    with pytest.raises(StepFailed, match="is not in HTTP_ALLOWED_HOSTS"):
        call(url=url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1/json"])
def test_only_http_and_https_urls_are_accepted(http, url):
    call, _, _ = http
    with pytest.raises(StepFailed, match="needs an http"):
        call(url=url)


def test_the_allow_list_comes_from_the_setting(http, app, monkeypatch):
    call, base, _ = http
    monkeypatch.setitem(app.config, "HTTP_ALLOWED_HOSTS", ("api.example.org",))
    with pytest.raises(StepFailed, match=r"host '127.0.0.1' is not in HTTP_ALLOWED_HOSTS \(api.example.org\)"):
        call(url=f"{base}/json")


def test_inputs_are_strict(http):
    call, base, _ = http
    with pytest.raises(StepFailed, match="method"):
        call(method="BREW", url=f"{base}/json")
    with pytest.raises(StepFailed, match="either json or body"):
        call(method="POST", url=f"{base}/x", json={}, body="x")


@pytest.mark.parametrize("with_, message", [
    ({"url": "{base}/json", "headers": {"X-Evil": "a\r\nHost: example.com"}}, "not a valid request"),
    ({"url": "http://127.0.0.1:port/"}, "not a valid request"),
])
def test_malformed_requests_fail_the_step_cleanly(http, with_, message):
    call, base, _ = http
    with_ = {key: value.format(base=base) if isinstance(value, str) else value for key, value in with_.items()}
    with pytest.raises(StepFailed, match=message):
        call(**with_)


def test_an_unknown_charset_falls_back_to_utf8(http):
    call, base, _ = http
    assert call(url=f"{base}/odd-charset").output["body"] == "ok"
