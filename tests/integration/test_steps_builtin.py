"""python.call, control.*, gate.approval and template.render, plus the registry and plugins."""
import pytest

from webapp.steps.base import StepContext, StepFailed, StepKind, StepStopped
from webapp.steps.python_functions import register_function
from webapp.steps.registry import UnknownStepKind, all_kinds, get_kind, load_plugins, register


def context(attempt=1, should_stop=lambda: False):
    return StepContext(run_id=1, step_id="s", attempt=attempt, params={}, outputs={}, should_stop=should_stop)


def run(name, with_, ctx=None):
    kind = get_kind(name)
    return kind.execute(kind.parse_inputs(with_), ctx or context())


def test_every_builtin_kind_is_registered_with_a_strict_schema():
    names = {kind.name for kind in all_kinds()}
    assert {"template.render", "http.request", "llm.complete", "python.call", "control.sleep", "control.fail",
            "gate.approval"} <= names
    for kind in all_kinds():
        assert kind.input_schema.model_config["extra"] == "forbid" and kind.input_schema.model_config["strict"]


def test_an_unknown_kind_is_a_clear_error_listing_the_known_ones():
    with pytest.raises(UnknownStepKind, match=r"unknown step kind 'shell.exec' \(known kinds: .*python.call"):
        get_kind("shell.exec")


def test_a_name_cannot_be_taken_by_a_second_kind():
    class Impostor(StepKind):
        name = "python.call"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)


def test_plugins_named_in_the_setting_register_kinds():
    load_plugins(["tests.integration.step_plugin"])
    assert run("test.shout", {"text": "hi"}).output == "HI!"


def test_a_missing_plugin_module_is_named():
    with pytest.raises(ImportError, match="STEP_PLUGINS names 'no.such.plugin'"):
        load_plugins(["no.such.plugin"])


def test_template_render_outputs_the_rendered_text():
    assert run("template.render", {"template": "Hello Ada"}).output == "Hello Ada"


def test_template_render_writes_a_native_value_as_json_text():
    assert run("template.render", {"template": {"words": 3}}).output == '{"words": 3}'
    assert run("template.render", {"template": 42}).output == "42"


def test_python_call_runs_registered_functions():
    assert run("python.call", {"function": "add", "args": [1, 2, 3.5]}).output == 6.5
    assert run("python.call", {"function": "echo", "kwargs": {"value": {"a": 1}}}).output == {"a": 1}
    assert run("python.call", {"function": "count_words", "args": ["one, two three"]}).output == {
        "words": 3, "characters": 14}


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "__import__", "webapp.steps.python_functions.add"])
def test_python_call_refuses_unregistered_names(name):
    with pytest.raises(StepFailed, match=f"'{name}' is not a registered function"):
        run("python.call", {"function": name})


def test_python_call_reports_wrong_arguments_and_function_errors():
    with pytest.raises(StepFailed, match="wrong arguments for count_words"):
        run("python.call", {"function": "count_words", "args": ["a", "b"]})
    with pytest.raises(StepFailed, match="add raised TypeError: add takes numbers only"):
        run("python.call", {"function": "add", "args": [1, "2"]})


def test_python_call_refuses_results_that_are_not_json():
    register_function("test_returns_a_set")(lambda: {1, 2})
    with pytest.raises(StepFailed, match="returned set, which is not JSON"):
        run("python.call", {"function": "test_returns_a_set"})


def test_control_fail_fails_its_first_attempts_then_passes():
    for attempt in (1, 2):
        with pytest.raises(StepFailed, match=f"boom \\(attempt {attempt} of the first 2 that fail\\)"):
            run("control.fail", {"times": 2, "message": "boom"}, context(attempt))
    assert run("control.fail", {"times": 2}, context(3)).output == {"attempt": 3}
    assert run("control.fail", {"times": 0}, context(1)).output == {"attempt": 1}


def test_control_fail_without_times_always_fails():
    for attempt in (1, 50):
        with pytest.raises(StepFailed, match="fails every attempt"):
            run("control.fail", {}, context(attempt))


def test_control_sleep_sleeps_and_reports():
    assert run("control.sleep", {"seconds": 0.05}).output == {"slept": 0.05}


def test_control_sleep_stops_when_the_run_is_cancelled():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(StepStopped, match="the run was cancelled"):
        run("control.sleep", {"seconds": 600}, context(should_stop=should_stop))
    assert len(calls) == 3


def test_gate_approval_waits_for_an_operator_and_is_never_executed():
    kind = get_kind("gate.approval")
    assert kind.waits_for_approval and not kind.memoizable
    assert kind.parse_inputs({}).prompt == "Approve to continue."
    assert not any(other.waits_for_approval for other in all_kinds() if other.name != "gate.approval")
    with pytest.raises(StepFailed):
        kind.execute(kind.parse_inputs({"prompt": "Ship it?"}), context())


def test_rendered_inputs_of_the_wrong_shape_fail_the_step_naming_the_field():
    with pytest.raises(StepFailed, match=r"inputs for control.sleep are not valid \(seconds: Input should be"):
        get_kind("control.sleep").parse_inputs({"seconds": "ten"})
