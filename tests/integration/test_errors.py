"""Errors answer in the caller's language and never leak internals."""


def test_api_404_is_json_in_the_v3_error_shape(client):
    response = client.get("/api/v3/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]


def test_page_404_is_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_api_405_is_json_with_allow_header(client):
    response = client.delete("/api/v3/health/live")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_page_405_is_html(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_api_413_for_a_body_over_the_limit(client, app):
    body = b"{" + b" " * app.config["MAX_CONTENT_LENGTH"] + b"}"
    response = client.post("/api/v3/health/live", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


def test_page_413_for_a_form_over_the_limit(client, app):
    response = client.post("/login", data={"email": "x" * app.config["MAX_CONTENT_LENGTH"]})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def test_api_500_is_json_without_stack_trace(client):
    response = client.get("/api/v3/_test/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.json["error"]["code"] == "internal_server_error"
    assert response.json["error"]["details"]["request_id"] == response.headers["X-Request-ID"]
    assert "secret internal detail" not in body and "Traceback" not in body


def test_page_500_is_html_without_stack_trace(client):
    response = client.get("/_test/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "secret internal detail" not in body and "Traceback" not in body
    assert response.headers["X-Request-ID"] in body


def test_request_id_is_generated_or_taken_from_a_sane_header(client):
    generated = client.get("/api/v3/health/live").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/api/v3/health/live", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/api/v3/health/live", headers={"X-Request-ID": "bad id; DROP"}).headers["X-Request-ID"]
    assert forged != "bad id; DROP" and len(forged) == 32


def test_log_lines_carry_the_request_id(client, caplog):
    caplog.set_level("ERROR")
    response = client.get("/_test/boom")
    [entry] = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert entry.request_id == response.headers["X-Request-ID"]
