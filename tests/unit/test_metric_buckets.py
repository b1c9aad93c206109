"""Histogram buckets resolve what they measure: fast requests and steps, and hour-long steps."""
from __future__ import annotations

import pytest

from webapp.metrics.registry import HTTP_BUCKETS, STEP_BUCKETS


@pytest.mark.parametrize("buckets", [HTTP_BUCKETS, STEP_BUCKETS])
def test_buckets_are_strictly_increasing_and_positive(buckets):
    assert all(0 < low < high for low, high in zip(buckets, buckets[1:], strict=False))


def test_http_buckets_separate_a_fast_api_call_from_a_slow_page():
    assert HTTP_BUCKETS[0] <= 0.005 and 0.05 in HTTP_BUCKETS and HTTP_BUCKETS[-1] >= 10


def test_step_buckets_span_a_template_render_to_an_hour_long_step():
    assert STEP_BUCKETS[0] <= 0.01 and STEP_BUCKETS[-1] >= 3600
    assert sum(1 for bound in STEP_BUCKETS if bound <= 1) >= 5  # sub-second steps are the common case
