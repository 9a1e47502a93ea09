"""The markdown table of a result, and its place in bench/README.md and the project README."""
from pathlib import Path

from bench.stats import fmt, spread

# The table goes to both: bench/README.md and the project README show the latest run.
READMES = [Path(__file__).resolve().parent / "README.md", Path(__file__).resolve().parents[1] / "README.md"]
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
FLAT_WITHIN = 0.15  # a change of a ratio smaller than this counts as flat (this machine's noise)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def pct(s: dict) -> str:
    return f"{s['median']:.0%} ({s['min']:.0%}–{s['max']:.0%})"


def table(r: dict, name: str) -> str:
    rows = [("measurement", "result: median (range over runs)", "target", "")]
    rows += _webhook_rows(r["webhook"])
    rows += _processing_rows(r["processing"])
    rows += _latency_rows(r.get("latency"))
    rows += _end_to_end_rows(r["end_to_end"])
    rows += _reconcile_rows(r.get("reconcile", {}))
    rows += _page_rows(r["order_page"])
    rows += _memory_rows(r["memory"])
    rows += _growth_rows(r)
    rows += _flash_rows(r.get("flash_sale"))
    m = r["machine"]
    head = (f"Run `{name}`{' (quick: not for the table)' if r['quick'] else ''}: {m['cpu']}, {m['cores']} cores, "
            f"{m['memory_gib']} GiB, PostgreSQL {m['postgresql']}, Redis {m['redis']}, Python {m['python']}; "
            f"load average at start {m['load_average'][0]:.1f} (shared machine); suite took {r['seconds']:.0f} s.")
    lines = [head, "", "| " + " | ".join(rows[0]) + " |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _webhook_rows(w: dict) -> list[tuple]:
    rows = []
    for c, x in w.items():
        ours, ceil = x["ours"], x["ceiling"]
        result = (f"{fmt(ours['rps'])} req/s vs ceiling {fmt(ceil['rps'])} = {pct(x['ratio'])}; "
                  f"p50 {fmt(ours['p50_ms'], 1)} ms, p99 {fmt(ours['p99_ms'], 1)} ms; errors {x['errors_total']}")
        target, ok = "errors 0", x["errors_total"] == 0
        if c == "16":
            target = "≥ 30 % of ceiling, p99 < 30 ms, errors 0"
            ok = ok and x["ratio"]["median"] >= 0.30 and ours["p99_ms"]["median"] < 30
        elif c == "64":
            target = "p99 < 100 ms, errors 0"
            ok = ok and ours["p99_ms"]["median"] < 100
        rows.append((f"1. webhook, concurrency {c}", result, target, verdict(ok)))
    return rows


def _processing_rows(p: dict) -> list[tuple]:
    pairs = p["pairs"]
    real = spread([x["notifications"]["per_second"] for x in pairs])
    noop = spread([x["noop"]["per_second"] for x in pairs])
    ratio = spread([x["ratio"] for x in pairs])
    drain = p["drain"]
    worker = p.get("worker", f"{p.get('worker_processes', 2)} processes")
    burst = (f"{drain['seconds']:.1f} s ({drain['per_second']:.0f}/s)" if drain["messages"] >= 10_000 else
             f"{drain['seconds']:.1f} s ({drain['per_second']:.0f}/s); 10,000 at this rate ≈ "
             f"{10_000 / drain['per_second']:.0f} s")
    return [(f"2. processing, one worker (Procfile: {worker}), confirmation off",
             f"{fmt(real)} notifications/s vs no-op {fmt(noop)}/s = {pct(ratio)}",
             "≥ 25 % of the no-op rate", verdict(ratio["median"] >= 0.25)),
            (f"2. drain a burst of {drain['messages']:,}", burst, "", "")] + _email_rows(p.get("emails"))


def _email_rows(emails: dict | None) -> list[tuple]:
    if not emails:
        return []
    return [("2. payment e-mail task (one per paid order, queued after the commit; not in the rates above)",
             f"{emails['per_second']:.0f}/s ({emails['messages']} in {emails['seconds']:.1f} s, mail server off)",
             "", "")]


def _latency_rows(latency: dict | None) -> list[tuple]:
    if not latency:
        return []
    [(design, rounds)] = latency["designs"].items()
    def rate(key: str) -> dict:
        return spread([x[key]["per_second"] for x in rounds])
    slow, fast = spread([x["ratio_150ms_to_off"] for x in rounds]), spread([x["ratio_0ms_to_noop"] for x in rounds])
    most = max(x["on_150ms"]["most_in_flight"] for x in rounds)
    return [(f"8. processing, confirmation on, status 150 ms (worker {design})",
             f"{fmt(rate('on_150ms'))}/s vs {fmt(rate('off'))}/s with confirmation off = {pct(slow)}; "
             f"at most {most} status calls at once", "≥ 50 % of confirmation off, calls bounded",
             verdict(slow["median"] >= 0.5)),
            ("8. … status 0 ms", f"{fmt(rate('on_0ms'))}/s vs no-op {fmt(rate('noop'))}/s = {pct(fast)}"
             + _floor(rounds), "≥ 30 % of the no-op rate", verdict(fast["median"] >= 0.3))]


def _floor(rounds: list[dict]) -> str:
    """The claim and GET status alone (no apply), and what that leaves a notification's apply at 30 %."""
    if "confirm_only_0ms" not in rounds[0]:  # runs from before the confirm-only burst
        return ""
    floor = spread([x["confirm_only_0ms"]["per_second"] for x in rounds])
    share = spread([x["ratio_confirm_only_to_noop"] for x in rounds])
    left = spread([1000 / (0.3 * x["noop"]["per_second"]) - 1000 / x["confirm_only_0ms"]["per_second"]
                   for x in rounds])
    return (f"; claim and GET status alone, nothing applied: {fmt(floor)}/s = {pct(share)}, which leaves "
            f"{fmt(left, 1)} ms per notification for applying it at 30 %")


def _flash_rows(f: dict | None) -> list[tuple]:
    if not f:
        return []
    paid, stream, sweep = f["paid_commit"], f["stream"], f["sweeper"]
    ok = paid.get("p95_s", 1e9) <= 10 and paid.get("p99_s", 1e9) <= 20 and f["lost"] == 0
    settled = f.get("settled_after_s")
    return [(f"9. flash sale: {f['orders']:,} orders in {f['seconds']:.0f} s ({f['rate_per_s']:.0f}/s), status 150 ms, "
             f"worker={f.get('worker_processes', 1)} ({f['worker_pool']}:{f['worker_concurrency']} each)",
             f"POST → paid p50 {paid['p50_s']:.1f} s, p95 {paid['p95_s']:.1f} s, p99 {paid['p99_s']:.1f} s; open pages "
             f"({stream['saw_success']} streams) p95 {stream.get('p95_s', float('nan')):.1f} s; lost {f['lost']}, "
             f"e-mailed twice {f['orders_emailed_twice']}; every receipt sent "
             + (f"{settled:.0f} s after the last POST" if settled is not None else "not within the wait"),
             "p95 ≤ 10 s, p99 ≤ 20 s, 0 lost, 0 twice",
             verdict(ok and f["orders_emailed_twice"] == 0)),
            ("9. … the sweeper during the sale", f"{sweep['runs']} runs of {sweep['expected']} due (every "
             f"{sweep['interval_s']} s), longest gap {sweep['longest_gap_s'] or 0:.1f} s, {sweep['discarded']} discarded",
             "every interval", verdict(sweep["runs"] >= sweep["expected"] and sweep["discarded"] == 0))]


def _end_to_end_rows(e: dict) -> list[tuple]:
    push, poll = e["push"], e["poll_endpoint"]
    return [(f"3. notification → visible, push ({push['n']} orders)",
             f"p50 {push['p50_ms']:.0f} ms, p95 {push['p95_ms']:.0f} ms (max {push['max_ms']:.0f}); "
             f"{e['failures']} failed", "p95 ≤ 1 s", verdict(push["p95_ms"] <= 1000 and e["failures"] == 0)),
            ("3. … status endpoint (poll)",
             f"p50 {poll['p50_ms']:.0f} ms, p95 {poll['p95_ms']:.0f} ms; the page polls every 10 s on top", "", "")]


def _reconcile_rows(c: dict) -> list[tuple]:
    ok = (c["status_calls"] <= c["payments"] and c["most_in_flight"] <= c["concurrency"] and c["wall_seconds"] < 60
          and c["still_pending"] == 0 and c["exit_code"] == 0)
    return [("4. reconciliation, 1,000 stale payments",
             f"{c['wall_seconds']:.1f} s, {c['status_calls']} status calls, at most {c['most_in_flight']} at once "
             f"(--concurrency {c['concurrency']}), "
             f"{c['still_pending']} left pending", "≤ 1 call each, bounded, < 60 s", verdict(ok))]


def _page_rows(o: dict) -> list[tuple]:
    return [("5. order page", f"cached {fmt(o['cached']['rps'])} req/s vs uncached {fmt(o['uncached']['rps'])} req/s "
             f"= {o['ratio']['median']:.1f}× ({o['ratio']['min']:.1f}–{o['ratio']['max']:.1f})",
             "cached ≥ 3× uncached", verdict(o["ratio"]["median"] >= 3))]


def _memory_rows(m: dict) -> list[tuple]:
    def one(x):
        return f"largest {x['largest_mib']:.0f} MiB, {x['processes']} processes {x['total_mib']:.0f} MiB"
    return [("6. peak RSS", f"web (gunicorn): {one(m['web'])}; worker (Celery): {one(m['worker'])}", "", "")]


def _growth_rows(r: dict) -> list[tuple]:
    g = r["growth"]
    rows = []
    for c, x in g["webhook"].items():
        before = r["webhook"][c]["ratio"]
        ok = _flat(before, x["ratio"])
        rows.append((f"7. webhook at {g['payments']} payments, c {c}",
                     f"{pct(x['ratio'])} of ceiling (was {pct(before)}), p99 {fmt(x['ours']['p99_ms'], 1)} ms",
                     "flat within noise", verdict(ok)))
    before = spread([x["ratio"] for x in r["processing"]["pairs"]])
    after = spread([x["ratio"] for x in g["processing"]["pairs"]])
    real = spread([x["notifications"]["per_second"] for x in g["processing"]["pairs"]])
    rows.append((f"7. processing at {g['payments']} payments", f"{fmt(real)}/s = {pct(after)} of no-op (was {pct(before)})",
                 "flat within noise", verdict(_flat(before, after))))
    scans = g["indexes"]["sequential_scans"]
    rows.append(("7. hot-path statements EXPLAINed", f"{g['indexes']['statements']} statements, "
                 f"{len(scans)} sequential scans on growing tables", "every lookup indexed", verdict(not scans)))
    return rows


def _flat(before: dict, after: dict) -> bool:
    overlap = after["max"] >= before["min"] and after["min"] <= before["max"]
    return overlap or abs(after["median"] / before["median"] - 1) <= FLAT_WITHIN


def update_readme(results: dict, name: str) -> None:
    for readme in READMES:
        text = readme.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(f"{head}{START}\n{table(results, name)}\n{END}{tail}")


if __name__ == "__main__":  # python -m bench.report bench/results/<run>.json: the table again
    import json
    import sys

    source = Path(sys.argv[1])
    update_readme(json.loads(source.read_text()), source.name)
    print(table(json.loads(source.read_text()), source.name))
