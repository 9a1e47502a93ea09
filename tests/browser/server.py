"""Start and stop the shop under gunicorn (its own gunicorn.conf.py) for browser tests and bench/."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"
SECRET_KEY = "browser-test-secret"
START_TIMEOUT = 30  # seconds; an upper bound for gunicorn to answer its first request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_uri(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def start_gunicorn(database_url: str, log_path: Path, push: bool, workers: int = 1):
    """Serve tests.browser.live_wsgi:app with the shop's gunicorn.conf.py on a free loopback port."""
    port = free_port()
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers),
               DATABASE_URL=database_url, REDIS_URL=REDIS_URL, SECRET_KEY=SECRET_KEY,
               MIDTRANS_SERVER_KEY="SB-Mid-server-test", MIDTRANS_EMULATOR="false",
               BASE_URL=f"http://127.0.0.1:{port}", STATUS_PUSH="true" if push else "false")
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "tests.browser.live_wsgi:app"],
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
