"""How long does a periodic task wait behind a notification backlog, in each shape the Procfile could take?

Shapes (the notification worker always has the Procfile's 4 prefork processes):

- `same-queue`: the periodic message on the default `celery` queue, behind the backlog (before #19);
- `both-queues`: the worker consumes `celery,periodic`, the periodic message on `periodic`;
- `own-worker`: the worker consumes `celery`; the beat process's own worker (`-B -Q periodic
  --concurrency=1`, here without -B) consumes `periodic`.

Each shape: a backlog of sleeping tasks on `celery` (200 of 0.2 s: Midtrans at normal latency, then
20 of 5 s: Midtrans slow, a task waiting on its read timeout), then MARKS periodic messages one every
0.5 s; each logs how long it waited between its publish and its start. Prints the waits per shape.

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python -m bench.periodic_wait

It empties that Redis database before and after each shape: give it one of your own.
"""
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from celery_worker import celery_app, flask_app  # noqa: F401

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
MARKS = 5
BACKLOGS = {"0.2 s tasks": (200, 0.2), "5 s tasks": (20, 5.0)}
SHAPES = {"same-queue": ("celery", ["celery"]), "both-queues": ("periodic", ["celery,periodic"]),
          "own-worker": ("periodic", ["celery", "periodic"])}


@celery_app.task(name="bench.sleep", ignore_result=True)
def sleep(seconds: float) -> None:
    """Stand in for a notification waiting on Midtrans."""
    time.sleep(seconds)


@celery_app.task(name="bench.mark", ignore_result=True)
def mark(sent_at: float) -> None:
    """Stand in for a sweep: say how long it waited."""
    log.warning("mark waited=%.3f", time.time() - sent_at)


def start_worker(name: str, queues: str, logs: Path) -> subprocess.Popen:
    concurrency = "1" if queues == "periodic" else "4"
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "bench.periodic_wait", "worker", "--loglevel=INFO",
                             f"--concurrency={concurrency}", f"--queues={queues}", f"--hostname={name}@bench",
                             "--without-gossip", "--without-mingle"], cwd=ROOT, stdout=(logs / name).open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def measure(shape: str, count: int, seconds: float, logs: Path) -> list[float | None]:
    queue, worker_queues = SHAPES[shape]
    workers = [start_worker(f"w{n}", queues, logs) for n, queues in enumerate(worker_queues)]
    try:
        _wait_for(lambda: all(" ready." in (logs / f"w{n}").read_text() for n in range(len(workers))), 60)
        for _ in range(count):
            sleep.apply_async((seconds,), queue="celery")
        time.sleep(1.0)  # every pool process is busy
        for _ in range(MARKS):
            mark.apply_async((time.time(),), queue=queue)
            time.sleep(0.5)
        deadline = count * seconds / 4 + 15
        _wait_for(lambda: len(_waits(logs)) >= MARKS, deadline)
        found = _waits(logs)
        return found + [None] * (MARKS - len(found))
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        redis.Redis.from_url(celery_app.conf.broker_url).flushdb()


def _waits(logs: Path) -> list[float]:
    text = "".join(path.read_text() for path in logs.iterdir())
    return [float(found) for found in re.findall(r"mark waited=([0-9.]+)", text)]


def _wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


def main() -> None:
    assert not celery_app.conf.task_always_eager, "set REDIS_URL to a Redis database of the bench's own"
    redis.Redis.from_url(celery_app.conf.broker_url).flushdb()
    for backlog, (count, seconds) in BACKLOGS.items():
        for shape in SHAPES:
            with tempfile.TemporaryDirectory() as logs:
                waits = measure(shape, count, seconds, Path(logs))
            shown = ", ".join("lost" if w is None else f"{w:.2f}" for w in waits)
            known = [w for w in waits if w is not None]
            median = f"{statistics.median(known):.2f} s" if known else "-"
            print(f"{backlog:12} {shape:12} median {median:8} waits: {shown}", flush=True)


if __name__ == "__main__":
    main()
