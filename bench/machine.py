"""What machine and software a result was measured on."""
import os
import platform
import subprocess
from importlib.metadata import version

import psycopg
import redis

PACKAGES = ("flask", "sqlalchemy", "psycopg", "celery", "kombu", "redis", "gunicorn", "gevent")


def describe(database_url: str, redis_url: str) -> dict:
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gib": round(_mem_kib() / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "postgresql": _postgres(database_url), "redis": redis.Redis.from_url(redis_url).info()["redis_version"],
            "wrk": _wrk(), "packages": {name: version(name) for name in PACKAGES}, "load_average": os.getloadavg()}


def _cpu_model() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _mem_kib() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _postgres(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def _wrk() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).split("\n")[0].strip()
