"""Reading the generated trigger form back into typed params (webapp/workflows/forms.py)."""
from webapp.workflows.forms import read_trigger_form, trigger_fields

SCHEMA = {
    "name": {"type": "string", "required": True},
    "note": {"type": "string"},
    "count": {"type": "integer", "default": 3},
    "ratio": {"type": "number"},
    "loud": {"type": "boolean", "default": True},
    "options": {"type": "object"},
    "tags": {"type": "array", "default": ["a"]},
}


def test_fields_follow_the_schema_with_defaults_shown():
    fields = {field.name: field for field in trigger_fields(SCHEMA)}
    assert [field.input for field in fields.values()] == ["text", "text", "number", "number", "checkbox", "json",
                                                          "json"]
    assert fields["name"].required and not fields["note"].required
    assert fields["count"].value == "3" and fields["count"].step == "1" and fields["ratio"].step == "any"
    assert fields["loud"].checked and fields["tags"].value == '[\n  "a"\n]'


def test_submitted_values_are_shown_again_after_an_error():
    fields = {field.name: field for field in trigger_fields(SCHEMA, {"count": "three", "loud": "true"})}
    assert fields["count"].value == "three" and fields["loud"].checked and fields["name"].value == ""


def test_values_are_read_into_their_types():
    params, errors = read_trigger_form(SCHEMA, {"name": "Ada", "count": " 7 ", "ratio": "0.5", "loud": "true",
                                                "options": '{"a": 1}', "tags": "[]"})
    assert errors == {}
    assert params == {"name": "Ada", "count": 7, "ratio": 0.5, "loud": True, "options": {"a": 1}, "tags": []}


def test_empty_fields_are_left_to_defaults_and_an_unticked_box_is_false():
    params, errors = read_trigger_form(SCHEMA, {"name": "", "note": "  ", "count": "", "options": ""})
    assert errors == {} and params == {"note": "  ", "loud": False}


def test_unreadable_values_are_field_errors():
    params, errors = read_trigger_form(SCHEMA, {"count": "1.5", "ratio": "nan", "options": "{oops"})
    assert set(errors) == {"count", "ratio", "options"}
    assert "whole number" in errors["count"] and "finite" in errors["ratio"] and "JSON" in errors["options"]
    assert "count" not in params
