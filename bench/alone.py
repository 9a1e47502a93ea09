"""One measurement run on its own, outside the suite: a fresh database, the fake, a results file.

    run_alone("shop_bench_x", 5_000, "x", lambda env, fake, work: {...})
"""
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import procs
from bench.fake import SlowFake
from bench.seed import migrate, recreate_database, seed_payments, seed_products
from bench.shape import shop_env

RESULTS = Path(__file__).resolve().parent / "results"


def run_alone(database: str, payments: int, name: str, measure: Callable[[dict, SlowFake, Path], dict]) -> dict:
    """Seed `payments` pending payments in `database` (a shop_bench* one, made anew), run `measure`,
    stop every process it started, and write bench/results/<name>-<time>.json."""
    from bench.suite import clear_redis  # the suite imports the measurements that import this

    work = Path(tempfile.mkdtemp(prefix=f"shop-bench-{name}-"))
    print(f"bench: logs in {work}", flush=True)
    fake = SlowFake()
    try:
        with fake:
            env = shop_env(database, fake.fake.url)
            recreate_database(database)
            migrate(env)
            seed_products(database)
            seed_payments(database, 1, payments)
            clear_redis()
            result = measure(env, fake, work)
    finally:
        procs.stop_all()
        clear_redis()
    out = RESULTS / f"{name}-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"bench: {out}", flush=True)
    return result
