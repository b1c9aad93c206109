"""The capture of a step attempt's log lines: what it keeps, and its bounds."""
from __future__ import annotations

import logging
import threading

from webapp.runs import attempt_logs

log = logging.getLogger("tests.step")


def captured_while(emit) -> list | None:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    try:
        with attempt_logs.capture() as handler:
            emit()
    finally:
        root.setLevel(level)
    return handler.captured()


def test_lines_keep_level_logger_message_and_a_utc_time():
    lines = captured_while(lambda: (log.info("fetched %s rows", 3), log.warning("slow")))
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("info", "tests.step", "fetched 3 rows"), ("warning", "tests.step", "slow")]
    assert all(line["ts"].endswith("Z") for line in lines)


def test_nothing_logged_is_none_and_the_handler_is_removed_afterwards():
    assert captured_while(lambda: None) is None
    assert not any(isinstance(handler, attempt_logs.AttemptLogHandler) for handler in logging.getLogger().handlers)


def test_records_below_the_logging_level_and_of_other_threads_are_not_kept():
    def emit():
        log.debug("too fine")
        other = threading.Thread(target=lambda: log.info("another step's line"))
        other.start()
        other.join(timeout=5)
        log.info("mine")
    assert [line["message"] for line in captured_while(emit)] == ["mine"]


def test_an_exception_is_named_in_its_line():
    def emit():
        try:
            raise ValueError("bad row 7")
        except ValueError:
            log.exception("import failed")
    assert captured_while(emit)[0]["message"] == "import failed (ValueError: bad row 7)"


def test_line_count_is_bounded_and_the_rest_is_counted():
    lines = captured_while(lambda: [log.info("line %d", n) for n in range(attempt_logs.MAX_LINES + 50)])
    assert len(lines) == attempt_logs.MAX_LINES + 1
    assert lines[-2]["message"] == f"line {attempt_logs.MAX_LINES - 1}"
    assert lines[-1]["message"] == "50 more line(s) not kept"


def test_messages_are_cut_and_the_total_size_is_bounded():
    lines = captured_while(lambda: [log.info("x" * 5000) for _ in range(100)])
    assert all(len(line["message"]) <= attempt_logs.MAX_MESSAGE_CHARS for line in lines)
    kept = lines[:-1]
    assert sum(len(str(line)) for line in kept) <= attempt_logs.MAX_BYTES + 100 * len(kept)
    assert 20 <= len(kept) < 40
    assert lines[-1]["message"] == f"{100 - len(kept)} more line(s) not kept"


def test_a_record_that_does_not_format_is_counted_not_raised():
    handler = attempt_logs.AttemptLogHandler()
    handler.emit(log.makeRecord(log.name, logging.INFO, __file__, 1, "%d rows", ("not a number",), None))
    assert handler.captured()[-1]["message"] == "1 more line(s) not kept"
