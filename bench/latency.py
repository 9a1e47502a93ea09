"""Measurement 8: processing with GET status confirmation at Midtrans's latency.

Two workers as the Procfile runs them (its pool and concurrency), one with MIDTRANS_VERIFY_STATUS
on and one with it off, each consuming only the bursts it is given (measurement 2's harness). In
turns, `repeats` times: a no-op burst and a burst of stored notifications with confirmation off, then
the same kind of burst with confirmation on while the fake answers every GET status after 150 ms,
and again at 0 ms; then, at 0 ms, `bench.confirm_only` (bench/worker.py): the task's claim and GET
status alone, nothing applied, the floor under the 0 ms rate. The fake counts the status calls in
flight at once (the bound).

    .venv/bin/python -m bench.latency [--size 300] [--repeats 2] [--pool threads --concurrency 16]

run alone makes its own database (shop_bench_latency) and uses BENCH_BROKER_URL / BENCH_REDIS_URL.
"""
import argparse
import random
from pathlib import Path

from bench import procs, processing
from bench.alone import run_alone
from bench.bodies import DUPLICATE_SHARE
from bench.fake import SlowFake
from bench.shape import WORKER_CONCURRENCY, WORKER_POOL

LATENCY = 0.15  # seconds: Midtrans's GET status from Indonesia takes about 0.1-0.3 s


def interleaved(env: dict, database: str, fake: SlowFake, work: Path, numbers_pool: list[int], size: int,
                repeats: int, seed: int, designs: list[tuple[str, int]] | None = None) -> dict:
    """For each worker design (pool, concurrency; the Procfile's unless told), in turns, `repeats` times:
    noop, off, on at 150 ms, on at 0 ms. The rates side by side, with the status calls in flight."""
    designs = designs or [(WORKER_POOL, WORKER_CONCURRENCY)]
    rng, rounds = random.Random(seed), {f"{pool}:{n}": [] for pool, n in designs}
    workers = {name: Pair(name, env, work) for name in rounds}
    try:
        for _ in range(repeats):
            for name, pair in workers.items():
                rounds[name].append(pair.round(database, numbers_pool, size, rng, fake))
    finally:
        fake.status_delay = 0.0
        for pair in workers.values():
            pair.stop()
    return {"latency_s": LATENCY, "designs": rounds}


class Pair:
    """Two workers of one design, as the Procfile runs it: confirmation off, and on."""

    def __init__(self, design: str, env: dict, work: Path):
        pool, concurrency = design.split(":")
        self.design, self.workers, self.bursts = design, {}, {}
        for verify in ("0", "1"):
            name = f"worker-{pool}{concurrency}-verify{verify}"
            self.workers[verify] = procs.celery_worker(name, dict(env, MIDTRANS_VERIFY_STATUS=verify), work,
                                                       concurrency=int(concurrency), queues="bench.idle", pool=pool)
            self.bursts[verify] = processing.Bursts(name, prefix=f"bench.{name}")

    def round(self, database: str, numbers_pool: list[int], size: int, rng: random.Random, fake: SlowFake) -> dict:
        noop = self.bursts["0"].run("bench.noop", list(range(size)))
        off = _burst(self.bursts["0"], database, numbers_pool, size, rng, fake, 0.0)
        slow = _burst(self.bursts["1"], database, numbers_pool, size, rng, fake, LATENCY)
        fast = _burst(self.bursts["1"], database, numbers_pool, size, rng, fake, 0.0)
        floor = _burst(self.bursts["1"], database, numbers_pool, size, rng, fake, 0.0, task="bench.confirm_only")
        result = {"noop": noop, "off": off, "on_150ms": slow, "on_0ms": fast, "confirm_only_0ms": floor,
                  "ratio_150ms_to_off": slow["per_second"] / off["per_second"],
                  "ratio_0ms_to_noop": fast["per_second"] / noop["per_second"],
                  "ratio_confirm_only_to_noop": floor["per_second"] / noop["per_second"],
                  "ratio_off_to_noop": off["per_second"] / noop["per_second"]}
        print(f"  {self.design:10} noop {noop['per_second']:5.0f}/s  off {off['per_second']:5.0f}/s  on@150ms "
              f"{slow['per_second']:5.0f}/s (at most {slow['most_in_flight']} calls at once)  on@0ms "
              f"{fast['per_second']:5.0f}/s   150ms/off {result['ratio_150ms_to_off']:.0%}  "
              f"0ms/noop {result['ratio_0ms_to_noop']:.0%}  confirm-only@0ms {floor['per_second']:5.0f}/s "
              f"= {result['ratio_confirm_only_to_noop']:.0%} of noop  {slow['outcomes']}", flush=True)
        return result

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


def _burst(bursts: processing.Bursts, database: str, numbers_pool: list[int], size: int, rng: random.Random,
           fake: SlowFake, delay: float, task: str = "payments.process_notification") -> dict:
    numbers = rng.sample(numbers_pool, int(size / (1 + DUPLICATE_SHARE)))
    ids = processing.store_notifications(database, numbers, rng.randrange(1 << 30), fake=fake.fake)
    fake.status_delay = delay
    fake.reset()
    result = bursts.run(task, ids)
    result["outcomes"] = processing.processed(database, ids)
    if task != "payments.process_notification":  # claimed, never applied: not left for a sweeper
        processing.forget_notifications(database, ids)
    result["status_calls"] = fake.status_calls()
    result["most_in_flight"] = fake.most_in_flight
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--designs", default=f"{WORKER_POOL}:{WORKER_CONCURRENCY}",
                        help="worker pools to compare in turns, e.g. prefork:4,threads:16")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/shop_bench_latency")
    args = parser.parse_args()
    designs = [(pool, int(n)) for pool, n in (d.split(":") for d in args.designs.split(","))]
    run_alone(args.database, 5_000, "latency", lambda env, fake, work: interleaved(
        env, args.database, fake, work, list(range(1, 5_001)), args.size, args.repeats, seed=800, designs=designs))


if __name__ == "__main__":
    main()
