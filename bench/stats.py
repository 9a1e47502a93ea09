"""Medians and spread over repeated runs; percentiles of single samples."""
import statistics


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict:
    """Median and range of one figure over repeated runs."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def over_runs(runs: list[dict], *keys: str) -> dict:
    return {key: spread([run[key] for run in runs]) for key in keys}


def fmt(s: dict, digits: int = 0, unit: str = "") -> str:
    """'1234 (1100-1300)': the median, and the range over the runs in brackets."""
    f = f"{{:.{digits}f}}"
    return f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})"
