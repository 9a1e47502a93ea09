"""Run wrk (a separate process) and read its summary."""
import json
import shutil
import subprocess
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"


def wrk(url: str, script: str, args: list[str], connections: int, seconds: float, timeout_s: int = 5) -> dict:
    """One wrk run; returns requests/s, p50/p99 in ms and every kind of error counted."""
    threads = min(2, connections)
    argv = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
            f"--timeout={timeout_s}s", "-s", str(WRK_DIR / script), url, "--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-800:]} {done.stderr[-800:]}")
    raw = json.loads(line[len("BENCH_JSON "):])
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return {"connections": connections, "requests": raw["requests"],
            "rps": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "errors": errors, "error_kinds": {k: raw[k] for k in raw if k.endswith("errors") or k == "timeouts"}}
