"""Measurement 1: the webhook's answer under load, against the bare-Flask ceiling, interleaved."""
import redis

from bench.load import wrk
from bench.shape import BROKER_URL
from bench.stats import over_runs
from shop import broker

PATH = "/api/midtrans/notification"


def interleaved(ours: str, ceiling: str, bodies: str, concurrencies: list[int], repeats: int,
                seconds: float, offset: int = 0) -> dict:
    """ours, ceiling, ours, ceiling ... for every concurrency, `repeats` times over."""
    runs = {c: {"ours": [], "ceiling": []} for c in concurrencies}
    for r in range(repeats):
        for c in concurrencies:
            for label, url in (("ours", ours), ("ceiling", ceiling)):
                run = wrk(url + PATH, "notify.lua", [bodies, str(offset + 7919 * r + 104729 * c)], c, seconds)
                runs[c][label].append(run)
                print(f"  c={c:<3} {label:8} {run['rps']:7.0f} req/s  p50 {run['p50_ms']:6.1f} ms  "
                      f"p99 {run['p99_ms']:6.1f} ms  errors {run['errors']}", flush=True)
                if label == "ours":
                    drop_queued_tasks()
    return {str(c): summarise(runs[c]) for c in concurrencies}


def summarise(pair: dict) -> dict:
    ratios = [o["rps"] / c["rps"] for o, c in zip(pair["ours"], pair["ceiling"])]
    return {"ours": over_runs(pair["ours"], "rps", "p50_ms", "p99_ms", "errors"),
            "ceiling": over_runs(pair["ceiling"], "rps", "p50_ms", "p99_ms", "errors"),
            "ratio": {"median": sorted(ratios)[len(ratios) // 2], "min": min(ratios), "max": max(ratios),
                      "runs": len(ratios)},
            "errors_total": sum(o["errors"] for o in pair["ours"]),
            "raw": pair}


def drop_queued_tasks(*queues: str) -> None:
    """No worker consumes the webhook's queue during measurement 1: drop what it enqueued (and what
    the other measurements left in `queues`), at every priority (e-mails wait at 9)."""
    redis.Redis.from_url(BROKER_URL).delete(*(name for queue in ("celery", *queues) for name in broker.lists_of(queue)))
