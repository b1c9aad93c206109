"""Integer params stay exact: anything outside the 64-bit range is refused, never a float."""
from webapp.workflows.params import INT64_MAX, INT64_MIN, check_params, schema_errors

SCHEMA = {"count": {"type": "integer"}, "amount": {"type": "number"}}


def test_the_64_bit_bounds_are_accepted():
    params, errors = check_params(SCHEMA, {"count": INT64_MAX, "amount": INT64_MIN})
    assert errors == [] and params == {"count": INT64_MAX, "amount": INT64_MIN}


def test_ten_to_the_26_is_refused_for_integer_and_number_params_naming_the_range():
    _, errors = check_params(SCHEMA, {"count": 10**26, "amount": -(10**26)})
    assert errors == [
        {"param": "count", "message": f"must be between {INT64_MIN} and {INT64_MAX} (a 64-bit integer)"},
        {"param": "amount", "message": f"must be between {INT64_MIN} and {INT64_MAX} (a 64-bit integer)"},
    ]


def test_one_past_the_maximum_is_refused():
    assert check_params(SCHEMA, {"count": INT64_MAX + 1})[1][0]["param"] == "count"


def test_a_huge_default_is_a_schema_error():
    assert schema_errors({"n": {"type": "integer", "default": 10**26}}) == [
        ("params.n.default", "must be integer, got an integer outside the 64-bit range")]
