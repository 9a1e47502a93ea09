"""For the tests that run the shop as real processes (gunicorn, Celery worker and beat) against Redis,
PostgreSQL and a local SMTP server: ports, the processes' environment, and starting and stopping them."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from email import message_from_bytes
from pathlib import Path

import requests

from tests.payments.helpers import URL, wait_until
from tests.test_production_install import procfile

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
START_TIMEOUT = 45.0  # seconds for gunicorn to answer its first request


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content))
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(smtp_port: int, midtrans_url: str, web_port: int) -> dict:
    database = os.environ["TEST_DATABASE_URL"]
    return {**os.environ, "DATABASE_URL": database, "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": "",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "MIDTRANS_SERVER_KEY": "SB-Mid-server-test",
            "MIDTRANS_CLIENT_KEY": "SB-Mid-client-test", "MIDTRANS_EMULATOR": "0", "SHOP_PRODUCTION": "0",
            "MIDTRANS_API_BASE_URL": midtrans_url, "MIDTRANS_VERIFY_STATUS": "1", "SECRET_KEY": "e2e",
            "HOST": "127.0.0.1", "PORT": str(web_port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
            "BASE_URL": f"http://127.0.0.1:{web_port}",
            # Each test's processes count into metrics directories of their own (metrics_dir.py).
            "METRICS_DIR": tempfile.mkdtemp(prefix="shop-metrics-")}


def answers(url: str) -> bool:
    """The web process is up: the notification URL answers a GET with 405."""
    try:
        return requests.get(url, timeout=1).status_code == 405
    except requests.RequestException:  # not listening yet, or still booting
        return False


class Processes:
    """Start shop processes in their own session (so a whole worker can be SIGKILLed), stop them all."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path, self.env, self.running = tmp_path, env, []

    def start(self, name: str, *args: str, **env) -> subprocess.Popen:
        return self._popen(name, [sys.executable, "-m", *args], **env)

    def _popen(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("a")
        process = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running.append(process)
        return process

    def worker(self, name: str, pool: str = "solo", concurrency: int = 2) -> subprocess.Popen:
        """A notification worker on the queues the Procfile's `worker` consumes."""
        queues = re.search(r"--queues=(\S+)", procfile()["worker"]).group(1)
        return self.start(name, "celery", "-A", "celery_worker", "worker", f"--pool={pool}",
                          f"--concurrency={concurrency}", f"--queues={queues}", f"--hostname={name}@%h",
                          "--loglevel=INFO", "--without-gossip", "--without-mingle")

    def procfile(self, role: str, **env) -> subprocess.Popen:
        """The Procfile's `role` line as a platform runs it: bash, the virtualenv's bin first on PATH."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{self.env['PATH']}"
        return self._popen(role, ["bash", "-c", f"exec {procfile()[role]}"], PATH=path, **env)

    def beat(self) -> subprocess.Popen:
        return self.procfile("beat", BEAT_SCHEDULE_FILE=str(self.tmp_path / "beat-schedule"))

    def web(self, name: str) -> str:
        port = free_port()
        self.start(name, "gunicorn", "wsgi:app", "-c", "gunicorn.conf.py", PORT=str(port))
        url = f"http://127.0.0.1:{port}{URL}"
        wait_until(lambda: answers(url), f"{name} to answer", START_TIMEOUT)
        return url

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

