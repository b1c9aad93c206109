"""Request bodies: malformed JSON is 400, a wrong field is 422 naming the field."""
from datetime import UTC, datetime
from typing import Literal

import pytest
from flask import Flask
from pydantic import Field

from webapp.api.inputs import Body, Query, parse_body, parse_query
from webapp.api.pagination import bigint_row_id, decode_cursor, encode_cursor, page, row_id, text, timestamp
from webapp.errors import status_for
from webapp.exceptions import DomainError


class Login(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    mode: Literal["a", "b"] = "a"


class Listing(Query):
    limit: int = Field(default=50, ge=1, le=200)


app = Flask(__name__)


def parse(data: str | bytes, model=Login):
    with app.test_request_context("/", method="POST", data=data, content_type="application/json"):
        return parse_body(model)


def test_valid_body_parses():
    assert parse('{"email": "a@b.c", "password": "pw"}').password == "pw"


@pytest.mark.parametrize("raw", ['{"email": ', "not json", b"\xff\xfe"])
def test_malformed_json_is_400(raw):
    with pytest.raises(DomainError) as caught:
        parse(raw)
    assert status_for(caught.value) == 400 and caught.value.code == "malformed_json"


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42"])
def test_non_object_body_is_400(raw):
    with pytest.raises(DomainError) as caught:
        parse(raw)
    assert status_for(caught.value) == 400


@pytest.mark.parametrize("raw, field", [
    ('{"email": "a@b.c", "password": ["x"]}', "password"),
    ('{"email": "a@b.c", "password": {"x": 1}}', "password"),
    ('{"email": "a@b.c", "password": 12345678}', "password"),
    ('{"email": "a@b.c"}', "password"),
    ('{"email": "a@b.c", "password": "pw", "mode": "c"}', "mode"),
    ('{"email": "a@b.c", "password": "pw", "admin": true}', "admin"),
    ('{"email": "%s", "password": "pw"}' % ("x" * 400), "email"),
])
def test_wrong_fields_are_422_naming_the_field(raw, field):
    with pytest.raises(DomainError) as caught:
        parse(raw)
    assert status_for(caught.value) == 422
    assert field in caught.value.details["fields"]
    assert field in caught.value.message


def test_query_strings_coerce_numbers_and_check_ranges():
    with app.test_request_context("/?limit=20"):
        assert parse_query(Listing).limit == 20
    with app.test_request_context("/?limit=5000"), pytest.raises(DomainError) as caught:
        parse_query(Listing)
    assert status_for(caught.value) == 422 and "limit" in caught.value.details["fields"]


def test_cursor_round_trips_to_typed_key_parts():
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert decode_cursor(encode_cursor([moment.isoformat(), 7]), (timestamp, row_id)) == (moment, 7)
    assert decode_cursor(encode_cursor(["daily-digest"]), (text,)) == ("daily-digest",)


@pytest.mark.parametrize("garbage", [
    "%%%", "bm90IGpzb24", encode_cursor([1]),
    encode_cursor(["2026-01-01T00:00:00", 7]),  # naive time: we only issue aware ones
    encode_cursor(["2026-01-01T00:00:00+00:00", 2**31]),  # past the integer column
    encode_cursor(["2026-01-01T00:00:00+00:00", True]), encode_cursor(["2026-01-01T00:00:00+00:00", 1.5]),
    encode_cursor([5, 7]), encode_cursor(["not a time", 7]),
])
def test_cursors_we_could_not_have_issued_are_400(garbage):
    with pytest.raises(DomainError) as caught:
        decode_cursor(garbage, (timestamp, row_id))
    assert status_for(caught.value) == 400 and caught.value.code == "invalid_cursor"


def test_bigint_ids_accept_what_integer_ids_refuse():
    assert bigint_row_id(2**40) == 2**40
    with pytest.raises(ValueError):
        row_id(2**40)


def test_page_uses_the_extra_row_only_to_signal_more():
    rows = [{"id": n} for n in range(4)]
    result = page(rows, 3, key=lambda row: [row["id"]], render=dict)
    assert [item["id"] for item in result["items"]] == [0, 1, 2]
    assert decode_cursor(result["next_cursor"], (int,)) == (2,)
    assert page(rows[:3], 3, key=lambda row: [row["id"]], render=dict)["next_cursor"] is None
