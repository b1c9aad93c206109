"""A second process for the memory tests: an app of its own with its own L1 and listener.

Commands (one JSON object per line on stdin): ``ready``; ``get`` {ns, key} -> {value, tier};
``watch`` {ns, key, until, started?} -> reads until the value equals ``until`` (setting the
Redis key ``started`` after its first read) and answers how many reads it took and the
wall-clock time it first saw it; ``compute`` {ns, key, threads, go}
-> each thread counts itself in ``waiting``, waits for the Redis key ``go``, then calls
get_or_compute; the computation counts itself in ``counter``.
"""
from __future__ import annotations

import json
import sys
import threading
import time

from redis import Redis


def main() -> None:
    from webapp import create_app
    from webapp.memory.stampede import get_or_compute
    from webapp.memory.store import memory

    app = create_app()
    for line in sys.stdin:
        command = json.loads(line)
        try:
            with app.app_context():
                result = run(app, command, memory(), get_or_compute)
            print(json.dumps({"result": result}), flush=True)
        except Exception as error:  # report it to the test instead of dying silently
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


def run(app, command, store, get_or_compute):
    op = command["op"]
    if op == "ready":
        store.get("global", "warm-up")
        deadline = time.monotonic() + 10
        while not store.l1_live and time.monotonic() < deadline:
            time.sleep(0.002)
        return {"subscribed": store.l1_live}
    if op == "get":
        hit = store.get(command["ns"], command["key"])
        return None if hit is None else {"value": hit.value, "tier": hit.tier}
    if op == "watch":
        reads, tiers = 0, set()
        deadline = time.monotonic() + command.get("timeout", 10)
        while time.monotonic() < deadline:
            hit = store.get(command["ns"], command["key"])
            reads += 1
            if reads == 1 and command.get("started"):  # tell the test the old value is being served
                store.redis.set(command["started"], 1, ex=60)
            if hit is not None and hit.value == command["until"]:
                return {"seen_at": time.time(), "reads": reads, "tier": hit.tier, "tiers_before": sorted(tiers)}
            tiers.add(hit.tier if hit else "miss")
            time.sleep(0.001)  # a reader that spins would hold the GIL the listener needs
        return {"seen_at": None, "reads": reads, "tiers_before": sorted(tiers)}
    if op == "compute":
        return compute(app, command, get_or_compute, store)
    raise ValueError(f"unknown op {op}")


def compute(app, command, get_or_compute, store):
    redis = Redis.from_url(app.config["REDIS_URL"])
    results: list = []

    def one() -> None:
        with app.app_context():
            redis.incr(command["waiting"])
            while not redis.exists(command["go"]):
                time.sleep(0.001)

            def work():
                redis.incr(command["counter"])
                time.sleep(command.get("seconds", 0.3))
                return {"computed": True}

            value, computed = get_or_compute(store, command["ns"], command["key"], work, ttl=60)
            results.append((value, computed))

    threads = [threading.Thread(target=one) for _ in range(command["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"values": [value for value, _ in results], "computed": sum(1 for _, c in results if c)}


if __name__ == "__main__":
    main()
