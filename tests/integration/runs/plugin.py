"""A STEP_PLUGINS module for engine tests: a ``python.call`` function that counts its calls.

The count lives in Redis, shared by every worker process, so a test can prove that a step
ran exactly once (or not again after a resume).
"""
from webapp.queues import redis_connection
from webapp.steps.python_functions import register_function

COUNTER_PREFIX = "flowdeck:test:executions:"


@register_function("count_execution")
def count_execution(key: str) -> int:
    return int(redis_connection().incr(COUNTER_PREFIX + key))
