"""Trigger params are checked against the definition's params schema."""
from webapp.workflows.params import check_params

SCHEMA = {
    "topic": {"type": "string", "required": True},
    "limit": {"type": "integer", "default": 10},
    "ratio": {"type": "number"},
    "dry_run": {"type": "boolean", "default": False},
    "options": {"type": "object", "default": {}},
    "tags": {"type": "array", "default": []},
}


def test_valid_params_get_defaults_filled_and_optional_ones_none():
    params, errors = check_params(SCHEMA, {"topic": "ai", "ratio": 2})
    assert errors == []
    assert params == {"topic": "ai", "limit": 10, "ratio": 2, "dry_run": False, "options": {}, "tags": []}


def test_defaults_are_copies_not_shared_between_runs():
    first, _ = check_params(SCHEMA, {"topic": "a"})
    first["tags"].append("x")
    second, _ = check_params(SCHEMA, {"topic": "b"})
    assert second["tags"] == []


def test_wrong_types_missing_and_unknown_params_are_all_named():
    _, errors = check_params(SCHEMA, {"limit": "10", "ratio": True, "dry_run": 1, "options": [], "tags": {},
                                      "colour": "red"})
    assert errors == [
        {"param": "colour",
         "message": "is not a param of this workflow (declared: dry_run, limit, options, ratio, tags, topic)"},
        {"param": "topic", "message": "is required (string)"},
        {"param": "limit", "message": "must be integer, got string"},
        {"param": "ratio", "message": "must be number, got boolean"},
        {"param": "dry_run", "message": "must be boolean, got integer"},
        {"param": "options", "message": "must be object, got array"},
        {"param": "tags", "message": "must be array, got object"},
    ]


def test_an_integer_is_a_number_but_a_float_is_not_an_integer():
    assert check_params(SCHEMA, {"topic": "a", "ratio": 1})[1] == []
    assert check_params(SCHEMA, {"topic": "a", "limit": 1.5})[1] == [
        {"param": "limit", "message": "must be integer, got number"}]


def test_params_that_are_not_an_object_are_refused():
    assert check_params(SCHEMA, ["ai"])[1] == [{"param": "params", "message": "params must be an object, got array"}]
