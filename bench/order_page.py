"""Measurement 5: one shopper's order page, served from the page cache and rendered every time."""
from bench.end_to_end import session_cookie
from bench.load import wrk
from bench.seed import order_id, reset_payments, user_id_of
from bench.stats import over_runs


def interleaved(cached: str, uncached: str, database_url: str, n: int, connections: int, repeats: int,
                seconds: float) -> dict:
    reset_payments(database_url, [n])  # a pending order: the page shows how to pay
    cookie = session_cookie(user_id_of(n))
    runs = {"cached": [], "uncached": []}
    for _ in range(repeats):
        for label, base in (("cached", cached), ("uncached", uncached)):
            run = wrk(f"{base}/orders/{order_id(n)}", "get.lua", [cookie], connections, seconds)
            runs[label].append(run)
            print(f"  {label:8} {run['rps']:7.0f} req/s  p50 {run['p50_ms']:6.1f} ms  p99 {run['p99_ms']:6.1f} ms"
                  f"  errors {run['errors']}", flush=True)
    ratios = [c["rps"] / u["rps"] for c, u in zip(runs["cached"], runs["uncached"])]
    return {"connections": connections,
            "cached": over_runs(runs["cached"], "rps", "p50_ms", "p99_ms", "errors"),
            "uncached": over_runs(runs["uncached"], "rps", "p50_ms", "p99_ms", "errors"),
            "ratio": {"median": sorted(ratios)[len(ratios) // 2], "min": min(ratios), "max": max(ratios),
                      "runs": len(ratios)}}
