"""Start and stop the shop under gunicorn (its own gunicorn.conf.py) and a Celery worker, for the
browser tests and bench/. Midtrans is never reachable from them: its URLs point at a closed port."""
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"
SECRET_KEY = "browser-test-secret"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing answers there
START_TIMEOUT = 30  # seconds; an upper bound for gunicorn to answer its first request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_uri(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def shop_env(database_url: str, port: int, push: bool = True, workers: int = 1,
             midtrans_url: str = CLOSED_PORT) -> dict:
    """The environment of the shop's processes: real PostgreSQL and Redis, no Midtrans at all (or a fake's URL)."""
    return dict(os.environ, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers),
                METRICS_DIR=tempfile.mkdtemp(prefix="shop-metrics-"),
                DATABASE_URL=database_url, REDIS_URL=REDIS_URL, CELERY_BROKER_URL="", SECRET_KEY=SECRET_KEY,
                MIDTRANS_SERVER_KEY="SB-Mid-server-test", MIDTRANS_CLIENT_KEY="SB-Mid-client-test",
                MIDTRANS_EMULATOR="false", MIDTRANS_VERIFY_STATUS="false",
                MIDTRANS_API_BASE_URL=midtrans_url, MIDTRANS_SNAP_BASE_URL=midtrans_url + "/snap/v1",
                BASE_URL=f"http://127.0.0.1:{port}", STATUS_PUSH="true" if push else "false")


def start_worker(database_url: str, log_path: Path) -> subprocess.Popen:
    """A real Celery worker (one process) taking the shop's tasks from Redis."""
    env = shop_env(database_url, free_port())
    command = [sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "--pool=solo",
               "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)


def start_gunicorn(database_url: str, log_path: Path, push: bool, workers: int = 1,
                   midtrans_url: str = CLOSED_PORT, **extra_env: str):
    """Serve wsgi:app with the shop's gunicorn.conf.py on a free loopback port (`extra_env` on top)."""
    port = free_port()
    env = dict(shop_env(database_url, port, push, workers, midtrans_url), **extra_env)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log_path)
    except BaseException:
        stop(process)  # a server that never answered must not outlive the run
        raise
    return process, url


def wait_until_serving(url: str, process, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + log_path.read_text())
        try:
            requests.get(url + "/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer in time:\n" + log_path.read_text())


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
