"""Benchmark the event dispatcher against real PostgreSQL and RabbitMQ.

1. Throughput: rounds of N outbox rows over 100 runs published by ``Dispatcher.dispatch_once``
   (claim with SKIP LOCKED, publish in waves with confirms and ``mandatory``, mark
   ``published_at``, one commit per batch), against the baseline of a plain pika loop
   publishing the same N messages with confirms, ``mandatory`` and persistent delivery on the
   same broker in the same process, and against the dispatcher's ``RabbitPublisher`` alone
   sending the same waves (no database, no Redis), all alternating round by round so that they
   see the same load. Prints the median events/s of each and the ratio to the baseline (target
   ≥ 0.5).
2. Latency from commit to consumer: one event at a time is committed and the time until a
   consumer bound to ``flowdeck.events`` receives it is measured, with a ``flask events
   dispatch`` process woken by LISTEN/NOTIFY, then polling only (``--poll`` seconds, ``--no-listen``).
   Prints p50/p95/p99 (target p50 < 20 ms).

    .venv/bin/python bench/events.py [--events 2000] [--rounds 5] [--samples 300] [--poll 0.5]

Creates and drops its own database on BENCH_DATABASE_URL's server; Redis is BENCH_REDIS_URL
(db 13 by default, flushed before and after), RabbitMQ BENCH_AMQP_URL.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_app  # noqa: E402

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
SUBJECTS = 100  # throughput events are spread over this many runs (a wave holds one event per run)



def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def consumer(binding: str):
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare("flowdeck.events", exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    channel.queue_bind(queue, "flowdeck.events", routing_key=binding)
    return connection, channel, queue


def add_events(db, count: int, event_type: str) -> None:
    from webapp.events.service import publish

    for index in range(count):
        publish(event_type, {"run_id": 1 + index % SUBJECTS, "n": index})
    db.session.commit()


def dispatcher_round(app, db, count: int) -> float:
    from webapp.events.dispatcher import Dispatcher

    add_events(db, count, "bench.throughput")
    dispatcher = Dispatcher(app, amqp_url=AMQP_URL)
    started = time.perf_counter()
    published = 0
    while published < count:
        published += dispatcher.dispatch_once().published
    seconds = time.perf_counter() - started
    dispatcher.close()
    return count / seconds


def baseline_round(count: int) -> float:
    from webapp.events.messages import encode

    body = encode({"id": "1", "type": "bench.throughput", "occurred_at": "2026-12-01T00:00:00Z",
                   "subject": "run:1", "data": {"run_id": 1, "n": 1}})
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for index in range(count):
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                          message_id=str(index), timestamp=int(time.time()))
        channel.basic_publish("flowdeck.events", "bench.throughput", body, properties, mandatory=True)
    seconds = time.perf_counter() - started
    connection.close()
    return count / seconds


def publisher_round(count: int, wave: int) -> float:
    """The dispatcher's RabbitMQ publisher alone: the same waves, no database and no Redis."""
    from datetime import UTC, datetime

    from webapp.events.publishers import Outgoing, RabbitPublisher

    body = b'{"id": "1", "type": "bench.throughput", "data": {"run_id": 1}}'
    publisher = RabbitPublisher(AMQP_URL)
    started = time.perf_counter()
    for first in range(0, count, wave):
        publisher.publish_wave([Outgoing("bench.throughput", body, str(index), datetime.now(UTC))
                                for index in range(first, min(first + wave, count))])
    seconds = time.perf_counter() - started
    publisher.close()
    return count / seconds


def throughput(app, db, count: int, rounds: int) -> None:
    """Alternating rounds, so all sides see the same machine load; medians compared."""
    connection, channel, queue = consumer("bench.throughput")
    ours, plain, waves = [], [], []
    for _ in range(rounds):
        ours.append(dispatcher_round(app, db, count))
        plain.append(baseline_round(count))
        waves.append(publisher_round(count, SUBJECTS))
        channel.queue_purge(queue)
    connection.close()
    dispatcher_rate, baseline_rate, wave_rate = (statistics.median(ours), statistics.median(plain),
                                                 statistics.median(waves))
    print(f"throughput, median of {rounds} alternating rounds of {count} events over {SUBJECTS} runs: "
          f"dispatcher {dispatcher_rate:,.0f} events/s, plain pika confirm loop {baseline_rate:,.0f} events/s, "
          f"ratio {dispatcher_rate / baseline_rate:.2f} (target >= 0.5); the dispatcher's publisher alone "
          f"in waves of {SUBJECTS} {wave_rate:,.0f} events/s (the outbox keeps "
          f"{dispatcher_rate / wave_rate:.2f} of it)")


def latency(app, db, samples: int, listen: bool) -> list[float]:
    """A real ``flask events dispatch`` process, as in production; this process commits and consumes."""
    from webapp.events.service import publish

    connection, channel, queue = consumer("bench.latency")
    flask = str(Path(sys.executable).parent / "flask")
    command = [flask, "events", "dispatch", "--amqp-url", AMQP_URL, *([] if listen else ["--no-listen"])]
    dispatcher = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "FLASK_APP": "wsgi"})
    time.sleep(3.0)
    results = []
    for index in range(samples + 10):
        publish("bench.latency", {"run_id": 1, "n": index})
        db.session.commit()
        committed = time.perf_counter()
        while True:
            method, _, _ = channel.basic_get(queue, auto_ack=True)
            if method is not None:
                break
            connection.process_data_events(time_limit=0.0005)
        if index >= 10:  # warm-up
            results.append((time.perf_counter() - committed) * 1000)
    dispatcher.terminate()
    dispatcher.wait(timeout=30)
    connection.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per throughput round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--poll", type=float, default=0.5)
    args = parser.parse_args()

    with scratch_app("redis://127.0.0.1:6379/13", EVENTS_POLL_SECONDS=str(args.poll)) as (app, _env):
        run_bench(args, app)


def run_bench(args, app) -> None:
    from webapp.extensions import db

    throughput(app, db, args.events, args.rounds)
    notify = latency(app, db, args.samples, listen=True)
    poll = latency(app, db, max(20, args.samples // 10), listen=False)
    for label, samples in ((f"LISTEN/NOTIFY ({len(notify)} events)", notify),
                           (f"poll every {args.poll}s ({len(poll)} events)", poll)):
        p50, p95, p99 = percentiles(samples)
        print(f"commit-to-consumer latency, {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    ratio = statistics.median(poll) / statistics.median(notify)
    print(f"p50 ratio poll / notify: {ratio:.0f}x (target: notify p50 under 20 ms)")


if __name__ == "__main__":
    main()
