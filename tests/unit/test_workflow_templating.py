"""Templates render in the sandbox with params, steps.<id>.output and run."""
import pytest

from webapp.steps.base import StepFailed
from webapp.workflows.templating import RenderError, make_scope, render_inputs, step_references, syntax_error

SCOPE = make_scope({"name": "Ada", "count": 3, "flag": False},
                   {"fetch": {"status": 200, "body": "hello", "items": [1, 2]}}, {"id": 7})


def test_strings_render_recursively_and_other_values_pass_through():
    rendered = render_inputs({"greeting": "Hi {{ params.name }}", "nested": {"list": ["{{ run.id }}!", 5, None]},
                              "plain": "no template", "number": 1.5}, SCOPE)
    assert rendered == {"greeting": "Hi Ada", "nested": {"list": ["7!", 5, None]}, "plain": "no template",
                        "number": 1.5}


@pytest.mark.parametrize("template, expected", [
    ("{{ params.count }}", 3),
    ("  {{ params.flag }}  ", False),
    ("{{ steps.fetch.output }}", {"status": 200, "body": "hello", "items": [1, 2]}),
    ("{{ steps.fetch.output['items'] }}", [1, 2]),
    ("{{ params.count * 2 }}", 6),
    ("{{ params.count }} items", "3 items"),
])
def test_a_single_expression_keeps_its_native_type(template, expected):
    assert render_inputs({"value": template}, SCOPE)["value"] == expected


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__ }}",
    "{{ params.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ steps.fetch.output.items.__self__ }}",
    "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
])
def test_the_sandbox_refuses_unsafe_attribute_access(template):
    with pytest.raises(RenderError, match="unsafe"):
        render_inputs({"x": template}, SCOPE)


@pytest.mark.parametrize("template, message", [
    ("{{ 'a' * 100000000 }}", "more than 1000000 items"),
    ("{{ 9 ** 99999 }}", "exponent 99999 is larger than 1000"),
    ("{{ range(10 ** 9) | list }}", "Range too big"),
    ("{{ 'x'.ljust(10 ** 9) }}", "too large for a template"),
    ("{{ 'x'.zfill(10 ** 8) }}", "too large for a template"),
    ("{{ 'x' | center(10 ** 8) }}", "too large for a template"),
    ("{{ 'x' | indent(10 ** 8, true) }}", "too large for a template"),
    ("{{ '%999999999s' % 'x' }}", "format widths"),
    ("{{ '%.99999999f' | format(1.5) }}", "format widths"),
    ("{{ '{:>999999999}'.format('x') }}", "format widths"),
    ("{{ '{:>{w}}'.format('x', w=10 ** 9) }}", "too large for a template"),
    ("{{ ('x' * 1000000) | replace('x', 'yy') }}", "replace would give more than 1000000"),
    ("{{ ('x' * 1000000).replace('x', 'yy') }}", "replace would give more than 1000000"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError"),
    ("{% for i in range(100000) %}{{ 'x' * 999999 }}{% endfor %}", "rendered text is longer than 1000000"),
])
def test_the_sandbox_refuses_huge_results_and_runaway_recursion(template, message):
    with pytest.raises(RenderError, match=message):
        render_inputs({"x": template}, SCOPE)


def test_an_undefined_name_fails_the_step_naming_the_field():
    with pytest.raises(StepFailed, match=r"with\.headers\.X-Topic: 'dict object' has no attribute 'topic'"):
        render_inputs({"headers": {"X-Topic": "{{ params.topic }}"}}, SCOPE)


def test_a_runtime_type_error_is_a_render_error_not_a_crash():
    with pytest.raises(RenderError, match=r"with\.x"):
        render_inputs({"x": "{{ params.name + 1 }}"}, SCOPE)


def test_syntax_check_names_the_problem_and_accepts_good_templates():
    assert "template syntax error" in syntax_error("{{ params.name ")
    assert "template syntax error" in syntax_error("{% if params.flag %}yes")
    assert syntax_error("{% if params.flag %}yes{% endif %} {{ params.name | upper }}") is None


@pytest.mark.parametrize("template, expected", [
    ("{{ 'x'.ljust(3) }}|", "x  |"),
    ("{{ 'Order 12345678: %s' % params.name }}", "Order 12345678: Ada"),
    ("{{ '%5.2f' | format(1.5) }}", " 1.50"),
    ("{{ params.name | replace('A', 'a') }}", "ada"),
    ("{{ '{:>4}'.format(params.count) }}", "   3"),
])
def test_ordinary_formatting_still_works(template, expected):
    assert render_inputs({"x": template}, SCOPE)["x"] == expected


@pytest.mark.parametrize("with_, names, indirect", [
    ({"a": "{{ steps.x.output }} and {{ steps['y'].output.z }}", "b": ["{{ params.q }}", 3]}, {"x", "y"}, False),
    ({"a": "plain text that mentions steps.x", "n": 5}, set(), False),
    ({"a": "{{ steps.x.output }}", "b": "{% for s in steps %}{{ s }}{% endfor %}"}, {"x"}, True),
    ({"a": "{{ steps[params.name].output }}"}, set(), True),
    ({"a": "{{ steps | length }}"}, set(), True),
    ({"a": "{{ steps.get('x').output }}"}, set(), True),
    ({"a": "{% set steps = 1 %}{{ steps }}"}, set(), True),
    ({"a": "{{ unclosed "}, set(), False),  # fails to render before it reads anything
])
def test_step_references_name_what_templates_read_and_whether_they_use_steps_otherwise(with_, names, indirect):
    found = step_references(with_)
    assert (set(found.names), found.indirect) == (names, indirect)
