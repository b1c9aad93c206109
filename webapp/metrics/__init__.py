"""Prometheus metrics: ``GET /metrics`` on the web, step metrics from each worker's parent.

- ``registry``: the metric objects that processes update (HTTP, steps, costs, logins).
- ``http``: request counters and latency by route template, recorded in the web process.
- ``collectors``: figures read at scrape time from PostgreSQL and Redis (runs, queues, workers,
  budgets, events, memory, health, locked accounts), so every web process reports the same truth.
- ``worker``: after each job the worker's PARENT process reads the attempt it ran and records
  it; the horse (forked or persistent) never touches a metric.
- ``transitions``: run ends and crashed steps, counted where each move commits (any process).
- ``views``: the ``/metrics`` endpoint, open to ``METRICS_TOKEN`` or ``METRICS_ALLOWED_NETWORKS``.
- ``gunicorn_conf``: multiprocess mode under gunicorn (wipe the directory, mark dead workers).
"""
