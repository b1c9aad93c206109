"""Each validation error is marked on the line of the text it is about, in YAML and in JSON."""
import json

from webapp.workflows.positions import error_lines

YAML = """name: Lines
params:
  topic: {type: strin}
steps:
  - id: fetch
    uses: http.request
    with:
      url: 42
  - id: get-it
    uses: template.render
    needs: [fetch, ghost]
  - id: fetch
    with: {template: x}
"""


def test_yaml_errors_point_at_the_field_or_item_they_name():
    errors = [
        {"step": None, "field": "params.topic.type", "message": "must be one of ..."},
        {"step": "fetch", "field": "with.url", "message": "Input should be a valid string"},
        {"step": "get-it", "field": "id", "message": "'get-it' is not a valid step id"},
        {"step": "get-it", "field": "needs[1]", "message": "refers to an unknown step 'ghost'"},
        {"step": "fetch", "field": "id", "message": "duplicate step id 'fetch'"},
    ]
    assert error_lines(YAML, errors) == [3, 8, 9, 11, 12]


def test_a_missing_field_is_marked_on_its_steps_first_line():
    errors = [{"step": "#3", "field": "uses", "message": "is required: the name of a step kind"},
              {"step": None, "field": "description", "message": "must be a string"}]
    assert error_lines(YAML, errors) == [12, 1]


def test_json_text_gets_lines_too():
    text = json.dumps({"name": "J", "steps": [{"id": "a", "uses": "template.render", "with": {"template": 1}}]},
                      indent=2)
    [line] = error_lines(text, [{"step": "a", "field": "with.template", "message": "Input should be a string"}])
    assert text.splitlines()[line - 1].strip().startswith('"template": 1')


def test_text_that_does_not_parse_is_marked_where_parsing_stopped():
    text = "name: Broken\nsteps:\n  - id: a\n    uses: [unclosed\n"
    error = {"step": None, "field": "definition", "message": "is neither valid JSON nor YAML"}
    assert error_lines(text, [error]) == [5]
