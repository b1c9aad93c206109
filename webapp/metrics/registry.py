"""The metrics Flowdeck processes update; scrape-time figures live in ``collectors``.

Buckets are chosen for what they measure: HTTP latency from 5 ms to 10 s (a page or API call),
step durations and queue waits from 10 ms to one hour (a step may be a long LLM call or a
sleep), so the histograms resolve both a fast template step and a slow model call.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

http_requests = Counter("flowdeck_http_requests", "HTTP requests answered, by route template.",
                        ["route", "method", "status"])
http_duration = Histogram("flowdeck_http_request_duration_seconds", "Time to answer an HTTP request.",
                          ["route"], buckets=HTTP_BUCKETS)
step_attempts = Counter("flowdeck_step_attempts", "Step attempts a worker finished, by step kind and outcome.",
                        ["kind", "status"])
step_duration = Histogram("flowdeck_step_duration_seconds", "Run time of a step attempt (started to finished).",
                          ["kind"], buckets=STEP_BUCKETS)
step_queue_wait = Histogram("flowdeck_step_queue_wait_seconds",
                            "Time a step attempt waited between being queued and starting (retry backoff included).",
                            buckets=STEP_BUCKETS)
runs_finished = Counter("flowdeck_runs", "Runs that ended, by workflow and final status.", ["workflow", "status"])
cost = Counter("flowdeck_cost", "Money spent by step attempts.", ["workflow", "model", "currency"])
cost_saved = Counter("flowdeck_cost_saved", "Money memo-cache hits avoided spending.", ["currency"])
login_failures = Counter("flowdeck_login_failures", "Failed sign-ins (browser and API).")
