import json
import logging

from webapp.logs import ContextFilter, JsonFormatter, TextFormatter, bound


def record(message: str) -> logging.LogRecord:
    entry = logging.LogRecord("flowdeck.test", logging.INFO, __file__, 1, message, (), None)
    ContextFilter().filter(entry)
    return entry


def test_json_format_is_one_object_per_line_with_context_ids():
    with bound(request_id="req-1", job_id="job-9"):
        line = JsonFormatter().format(record("hello\nworld"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello\nworld"
    assert entry["request_id"] == "req-1"
    assert entry["job_id"] == "job-9"
    assert "run_id" not in entry


def test_text_format_escapes_crlf_so_values_cannot_forge_lines():
    with bound(request_id="abc"):
        line = TextFormatter().format(record("user=evil\r\n2026 INFO forged"))
    assert "\n" not in line and "\r" not in line
    assert "req=abc" in line


def test_bound_fields_do_not_leak_out_of_their_block():
    with bound(job_id="inner"):
        pass
    assert record("x").job_id == "-"
