"""The environment of the production shape on loopback: what the shop processes are started with."""
import os
import secrets
import tempfile

# Production refuses keys written in the project: these are made per run (children inherit them).
SERVER_KEY = os.environ.setdefault("BENCH_SERVER_KEY", "SB-Mid-server-" + secrets.token_urlsafe(18))
WORKER_CONCURRENCY = 32  # the Procfile's default (${WORKER_CONCURRENCY:-32})
WORKER_POOL = "threads"  # the Procfile's worker pool (--pool=threads)
# The flash sale's formation: `worker=2`, one worker process per core of this 2-core host. A process's
# threads share one core (Python's GIL); docs/operations.md says to scale the worker to the cores.
WORKER_PROCESSES = 2
CLIENT_KEY = "SB-Mid-client-bench"
SECRET_KEY = os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48))
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/shop_bench_suite"
# Celery's queue (db 6) and the page cache and status push (db 7): only the bench uses them.
# Two runs at once (say, while developing) each need their own pair.
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def shop_env(database_url: str, midtrans_url: str, **extra: str) -> dict:
    """Environment for gunicorn and the Celery worker: production mode, every secret set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MIDTRANS_", "DATABASE", "REDIS"))}
    env.update(SHOP_PRODUCTION="1", SECRET_KEY=SECRET_KEY, DATABASE_URL=database_url, REDIS_URL=REDIS_URL,
               CELERY_BROKER_URL=BROKER_URL, MIDTRANS_SERVER_KEY=SERVER_KEY, MIDTRANS_CLIENT_KEY=CLIENT_KEY,
               MIDTRANS_EMULATOR="0", MIDTRANS_API_BASE_URL=midtrans_url,
               MIDTRANS_SNAP_BASE_URL=midtrans_url + "/snap/v1", BASE_URL="http://127.0.0.1:8000",
               MAIL_SERVER="", PYTHONUNBUFFERED="1", METRICS_DIR=tempfile.mkdtemp(prefix="shop-bench-metrics-"))
    env.update(extra)
    return env
