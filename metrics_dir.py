"""Where the Procfile processes keep their metrics: one directory per process under METRICS_DIR.

Called by gunicorn.conf.py (`on_starting`, in the master before any worker) and by
celery_worker.py (before the app, and so shop.metrics, is imported), never by the app:
prometheus_client picks its multiprocess mode from the environment when imported, and each
metric takes the mode chosen when it is made. Each process's
directory is emptied at its start (its counters start from zero, as Prometheus expects of a
restart) without touching the others'; `/metrics` on the web process reads them all.
A module of its own beside gunicorn.conf.py, outside the shop package: gunicorn's master imports it
without importing the app (gevent patches each worker after the fork; what the master imports
before, such as ssl, would be imported unpatched).
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

def metrics_base() -> Path:
    """METRICS_DIR, default a folder in the system's temporary directory."""
    return Path(os.environ.get("METRICS_DIR", "").strip() or Path(tempfile.gettempdir()) / "toko-metrics")


def prepare(role: str) -> Path:
    """Give this process (and the ones it forks) the emptied directory `role` under METRICS_DIR."""
    path = metrics_base() / safe(role)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        # Imported already (Celery's command line loads Flower, which imports it) and so in its
        # one-process mode: choose again, before the shop's metrics are made (they read it then).
        values.ValueClass = values.get_value_class()
    return path


def safe(role: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in role) or "process"


def celery_role(argv: list[str]) -> str | None:
    """The Celery node a `celery ... worker` command line runs (its --hostname up to "@"); None for
    any other Celery command (flower, inspect, purge), which records nothing of its own."""
    if "worker" not in argv:
        return None
    for index, arg in enumerate(argv):
        if arg.startswith("--hostname=") or arg.startswith("-n="):
            return arg.split("=", 1)[1].split("@", 1)[0] or "worker"
        if arg in ("--hostname", "-n") and index + 1 < len(argv):
            return argv[index + 1].split("@", 1)[0] or "worker"
    return "worker"
