"""Cycle detection and ancestors in the step graph."""
from webapp.workflows.graph import ancestors, cycles


def test_an_acyclic_fan_out_fan_in_has_no_cycles():
    assert cycles({"join": ["a", "b"], "a": ["root"], "b": ["root"], "root": []}) == []


def test_every_cycle_is_found_once():
    found = cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"], "e": ["a"]})
    assert sorted(found) == [["a", "b", "c"], ["d"]]


def test_ancestors_are_transitive():
    assert ancestors({"c": ["b"], "b": ["a"], "a": []}, "c") == {"a", "b"}


def test_a_long_chain_does_not_hit_the_recursion_limit():
    needs = {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(5000)}
    assert cycles(needs) == [] and len(ancestors(needs, "s4999")) == 4999
