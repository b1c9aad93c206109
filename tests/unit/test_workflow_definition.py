"""Definition validation: every problem is reported, each naming its step and field."""
import copy

import pytest

from webapp.workflows.definition import slugify, validate_definition

VALID = {
    "name": "Daily Digest",
    "params": {"topic": {"type": "string", "required": True}, "limit": {"type": "integer", "default": 3}},
    "max_concurrent_runs": 2,
    "steps": [
        {"id": "fetch", "uses": "http.request", "with": {"method": "GET", "url": "http://127.0.0.1/{{ params.topic }}"},
         "retry": {"max": 3, "backoff": [1, 5, 30]}, "timeout": 30},
        {"id": "summarize", "uses": "llm.complete", "needs": ["fetch"], "cache": {"ttl": 3600},
         "with": {"model": "local-small", "prompt": "Summarize: {{ steps.fetch.output.body }}",
                  "max_tokens": "{{ params.limit }}"}},
        {"id": "approve", "uses": "gate.approval", "needs": ["summarize"], "with": {"prompt": "Publish?"}},
        {"id": "count", "uses": "python.call", "needs": ["summarize", "approve"],
         "with": {"function": "count_words", "args": ["{{ steps.summarize.output.text }}"]}},
    ],
}


def broken(change):
    definition = copy.deepcopy(VALID)
    change(definition)
    return definition


def step(definition, step_id):
    return next(s for s in definition["steps"] if s["id"] == step_id)


def errors_of(definition):
    return [(e.step, e.field, e.message) for e in validate_definition(definition)]


def test_the_design_example_is_valid():
    assert validate_definition(VALID) == []


CASES = [
    ("unknown_top_level_field", lambda d: d.update({"schedule": "daily"}), None, "schedule", "unknown field"),
    ("missing_name", lambda d: d.pop("name"), None, "name", "is required"),
    ("name_without_letters", lambda d: d.update({"name": "!!!"}), None, "name", "becomes the slug"),
    ("name_of_a_console_page", lambda d: d.update({"name": "New"}), None, "name", "slug 'new', which a console"),
    ("bad_max_concurrent_runs", lambda d: d.update({"max_concurrent_runs": 0}), None, "max_concurrent_runs",
     "1 to 1000"),
    ("no_steps", lambda d: d.update({"steps": []}), None, "steps", "non-empty list"),
    ("step_not_an_object", lambda d: d["steps"].append("oops"), "#5", "step", "must be an object"),
    ("unknown_step_field", lambda d: step(d, "fetch").update({"when": "always"}), "fetch", "when", "unknown field"),
    ("missing_step_id", lambda d: step(d, "approve").pop("id"), "#3", "id", "is required"),
    ("step_id_with_dash", lambda d: step(d, "fetch").update({"id": "get-it"}), "get-it", "id", "letters, digits"),
    ("duplicate_step_id", lambda d: step(d, "approve").update({"id": "fetch"}), "fetch", "id", "duplicate step id"),
    ("missing_uses", lambda d: step(d, "fetch").pop("uses"), "fetch", "uses", "is required"),
    ("unknown_uses", lambda d: step(d, "fetch").update({"uses": "shell.exec"}), "fetch", "uses",
     "unknown step kind 'shell.exec'"),
    ("needs_not_a_list", lambda d: step(d, "summarize").update({"needs": "fetch"}), "summarize", "needs",
     "list of step ids"),
    ("needs_unknown_step", lambda d: step(d, "approve").update({"needs": ["summarize", "ghost"]}), "approve",
     "needs[1]", "unknown step 'ghost'"),
    ("needs_listed_twice", lambda d: step(d, "approve").update({"needs": ["summarize", "summarize"]}), "approve",
     "needs", "more than once"),
    ("self_need_is_a_cycle", lambda d: step(d, "fetch").update({"needs": ["fetch"]}), "fetch", "needs",
     "cycle: fetch -> fetch"),
    ("two_step_cycle", lambda d: step(d, "fetch").update({"needs": ["approve"]}), "fetch", "needs",
     "cycle: fetch -> approve -> summarize -> fetch"),
    ("with_not_an_object", lambda d: step(d, "fetch").update({"with": ["GET"]}), "fetch", "with", "must be an object"),
    ("with_unknown_input", lambda d: step(d, "fetch")["with"].update({"verb": "GET"}), "fetch", "with.verb",
     "Extra inputs"),
    ("with_missing_required_input", lambda d: step(d, "fetch")["with"].pop("url"), "fetch", "with.url",
     "Field required"),
    ("with_wrong_input_type", lambda d: step(d, "summarize")["with"].update({"max_tokens": "many"}), "summarize",
     "with.max_tokens", "valid integer"),
    ("with_value_out_of_range", lambda d: step(d, "fetch")["with"].update({"timeout": 0}), "fetch", "with.timeout",
     "greater than 0"),
    ("python_call_unregistered_function", lambda d: step(d, "count")["with"].update({"function": "os.system"}),
     "count", "with.function", "'os.system' is not a registered function"),
    ("template_syntax_error", lambda d: step(d, "fetch")["with"].update({"url": "http://x/{{ params.topic "}),
     "fetch", "with.url", "template syntax error"),
    ("template_reads_step_not_upstream", lambda d: step(d, "fetch")["with"].update({"url": "{{ steps.count.output }}"}),
     "fetch", "with.url", "steps.count, which is not upstream"),
    ("template_reads_undeclared_param", lambda d: step(d, "approve")["with"].update({"prompt": "{{ params.nope }}"}),
     "approve", "with.prompt", "params.nope, which is not declared"),
    ("retry_not_an_object", lambda d: step(d, "fetch").update({"retry": 3}), "fetch", "retry", "must be an object"),
    ("retry_max_negative", lambda d: step(d, "fetch")["retry"].update({"max": -1}), "fetch", "retry.max", "0 to 20"),
    ("retry_backoff_not_numbers", lambda d: step(d, "fetch")["retry"].update({"backoff": ["1s"]}), "fetch",
     "retry.backoff", "delays in seconds"),
    ("retry_unknown_field", lambda d: step(d, "fetch")["retry"].update({"jitter": True}), "fetch", "retry.jitter",
     "unknown field"),
    ("timeout_negative", lambda d: step(d, "fetch").update({"timeout": -5}), "fetch", "timeout", "above 0"),
    ("timeout_boolean", lambda d: step(d, "fetch").update({"timeout": True}), "fetch", "timeout", "number of seconds"),
    ("cache_without_ttl", lambda d: step(d, "summarize").update({"cache": {}}), "summarize", "cache",
     '{"ttl": seconds}'),
    ("cache_on_non_memoizable_kind", lambda d: step(d, "fetch").update({"cache": {"ttl": 60}}), "fetch", "cache",
     "not memoizable"),
    ("params_not_an_object", lambda d: d.update({"params": ["topic"]}), None, "params", "must be an object"),
    ("param_unknown_type", lambda d: d["params"]["topic"].update({"type": "str"}), None, "params.topic.type",
     "must be one of string, integer"),
    ("param_required_not_boolean", lambda d: d["params"]["topic"].update({"required": "yes"}), None,
     "params.topic.required", "true or false"),
    ("param_default_wrong_type", lambda d: d["params"]["limit"].update({"default": "3"}), None, "params.limit.default",
     "must be integer, got string"),
    ("param_required_with_default", lambda d: d["params"]["topic"].update({"default": "x"}), None,
     "params.topic.default", "required param cannot have a default"),
    ("param_unknown_field", lambda d: d["params"]["topic"].update({"enum": ["a"]}), None, "params.topic.enum",
     "unknown field"),
    ("param_bad_name", lambda d: d["params"].update({"1st": {"type": "string"}}), None, "params.1st",
     "letters, digits"),
]


@pytest.mark.parametrize("change, step_id, field, message", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_each_broken_definition_reports_its_step_and_field(change, step_id, field, message):
    found = errors_of(broken(change))
    assert any(s == step_id and f == field and message in m for s, f, m in found), found


def test_all_errors_are_reported_not_just_the_first():
    def many(d):
        step(d, "fetch").update({"uses": "nope"})
        step(d, "approve").update({"needs": ["ghost"]})
        d["params"]["limit"]["type"] = "float"
        step(d, "count")["with"]["function"] = "eval"

    fields = {(s, f) for s, f, _ in errors_of(broken(many))}
    expected = {("fetch", "uses"), ("approve", "needs[0]"), (None, "params.limit.type"), ("count", "with.function")}
    assert expected <= fields


def test_a_non_object_definition_is_one_clear_error():
    assert errors_of(["steps"]) == [(None, "definition", "must be a JSON object, got array")]


def test_deeply_nested_definition_is_refused_without_recursing_forever():
    nested = {}
    for _ in range(5000):
        nested = {"x": nested}
    assert errors_of(broken(lambda d: step(d, "fetch")["with"].update({"body": nested}))) == [
        (None, "definition", "is nested deeper than 20 levels")]


def test_templated_values_are_left_to_run_time_type_checks():
    definition = broken(lambda d: step(d, "fetch")["with"].update({"timeout": "{{ params.limit }}"}))
    assert validate_definition(definition) == []


def test_needs_may_name_steps_defined_later():
    definition = broken(lambda d: d["steps"].reverse())
    assert validate_definition(definition) == []


def test_slug_comes_from_the_name():
    assert slugify("  Daily Digest: v2! ") == "daily-digest-v2"


@pytest.mark.parametrize(("step_id", "message"), [
    ("get-it", "'get-it' is not a valid step id: use letters, digits and underscores"),
    ("9lives", "'9lives' is not a valid step id"),
    (7, "must be a string of letters, digits and underscores, not starting with a digit, at most 64 characters, "
        "got integer"),
    ("", "is required: letters, digits and underscores"),
])
def test_an_invalid_step_id_says_what_is_wrong_instead_of_is_required(step_id, message):
    definition = broken(lambda d: step(d, "approve").update({"id": step_id}))
    problems = [e.message for e in validate_definition(definition) if e.field == "id"]
    assert len(problems) == 1 and problems[0].startswith(message), problems


@pytest.mark.parametrize(("name", "slug"), [
    ("Zoë 山田 🚀 Flow", "zoe-shantian-flow"),
    ("Ærøskøbing Straße", "aeroskobing-strasse"),
    ("Привет мир", "privet-mir"),
    ("Łódź → Kraków", "lodz-krakow"),
])
def test_slug_transliterates_names_in_any_script_and_drops_symbols(name, slug):
    assert slugify(name) == slug


def test_a_name_of_emoji_only_is_refused_because_it_gives_no_slug():
    assert errors_of(broken(lambda d: d.update({"name": "🚀 🚀"}))) == [
        (None, "name", "needs at least one letter or digit (it becomes the slug)")]
