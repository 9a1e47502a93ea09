"""The Procfile's processes start from requirements.txt alone, as a Heroku-style build installs it.

The test suite's own environment has more (requirements-dev.txt), which can hide a package the
shop needs but never asked for: gunicorn's gevent worker once failed to boot on a fresh install
for want of `packaging`, which pytest had brought along everywhere else. This installs
requirements.txt into an empty virtualenv and runs each Procfile line as the platform does
(`bash -c`, the virtualenv's bin first on PATH): the release step, then web, worker, beat and
flower, each until it answers or says it is ready (beat: until its own worker ran a sweep).
"""
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

import psycopg
import pytest
import redis
import requests

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def production_bin(tmp_path_factory) -> Path:
    """A virtualenv holding requirements.txt and nothing else."""
    home = tmp_path_factory.mktemp("production") / "venv"
    venv.create(home, with_pip=True)
    done = subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "-r", str(ROOT / "requirements.txt")], capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    return home / "bin"


@pytest.fixture(scope="module")
def database():
    """A database of its own, so the release step migrates it from empty."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    base, _, name = url.rpartition("/")
    deploy = f"{name}_deploy"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{deploy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{deploy}"')
    yield f"{base}/{deploy}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{deploy}" WITH (FORCE)')


class Platform:
    """Runs Procfile lines the way a Heroku-style platform does, and stops what it started."""

    def __init__(self, bin_dir: Path, env: dict, logs: Path):
        self.env = dict(env, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(bin_dir.parent))
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def run(self, command: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def start(self, name: str, command: str, **env) -> Path:
        log = self.logs / f"{name}.log"
        self.started.append(subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=dict(self.env, **env),
                                             stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        return log

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


def wait_for(what: str, check, log: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} not ready within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def test_every_procfile_process_starts_from_requirements_txt_alone(production_bin, database, tmp_path):
    assert not (production_bin / "pytest").exists()  # the suite's packages are not there
    lines = procfile()
    assert set(lines) == {"release", "web", "worker", "beat", "flower"}
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    web_port, flower_port = free_port(), free_port()
    env = {"DATABASE_URL": database, "REDIS_URL": REDIS_URL, "SECRET_KEY": secrets.token_urlsafe(48),
           "BASE_URL": f"http://127.0.0.1:{web_port}", "MIDTRANS_SERVER_KEY": "SB-Mid-server-" + secrets.token_urlsafe(18),
           "MIDTRANS_CLIENT_KEY": "SB-Mid-client-install-test", "MIDTRANS_API_BASE_URL": "http://127.0.0.1:9",
           "MIDTRANS_SNAP_BASE_URL": "http://127.0.0.1:9", "SHOP_PRODUCTION": "1",
           "HOST": "127.0.0.1", "PORT": str(web_port), "WORKER_CONCURRENCY": "1",
           "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"), "FLOWER_PORT": str(flower_port),
           "METRICS_DIR": str(tmp_path / "metrics"),
           "FLOWER_BASIC_AUTH": "ops:install-test", "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(tmp_path),
           "SWEEP_INTERVAL_SECONDS": "1"}
    platform = Platform(production_bin, env, tmp_path)
    try:
        release = platform.run(lines["release"])
        assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-2000:]

        web_log = platform.start("web", lines["web"])
        url = f"http://127.0.0.1:{web_port}"
        wait_for("web", lambda: requests.get(url + "/healthz", timeout=5).status_code == 200, web_log,
                 platform.started[-1])
        assert requests.get(url + "/healthz", timeout=5).json() == {"status": "ok", "database": "ok", "broker": "ok"}
        assert requests.get(url + "/", timeout=5).status_code == 200  # the catalog, from the migrated schema
        refused = requests.post(url + "/api/midtrans/notification", json={"order_id": "TK-none"}, timeout=5)
        assert refused.status_code == 400  # through the gevent worker, the route and its checks

        worker_log = platform.start("worker", lines["worker"])
        wait_for("worker", lambda: b"ready." in worker_log.read_bytes(), worker_log, platform.started[-1])

        assert re.search(rb"\.> celery .*\.> reconcile ", worker_log.read_bytes(), re.S)  # its queues
        beat_log = platform.start("beat", lines["beat"])
        wait_for("beat", lambda: b"beat: Starting..." in beat_log.read_bytes(), beat_log, platform.started[-1])
        # The beat process also runs the periodic queue: a sweep scheduled there runs there.
        swept = rb"Task payments\.sweep_notifications\[\S+\] succeeded"
        wait_for("a sweep in the beat process", lambda: re.search(swept, beat_log.read_bytes()), beat_log,
                 platform.started[-1])

        flower_log = platform.start("flower", lines["flower"])
        flower = f"http://127.0.0.1:{flower_port}/"
        wait_for("flower", lambda: requests.get(flower, auth=("ops", "install-test"), timeout=5).status_code == 200,
                 flower_log, platform.started[-1])
        assert requests.get(flower, timeout=5).status_code == 401  # its basic auth holds
    finally:
        platform.stop_all()
        broker.flushdb()
    for name in ("web", "worker", "beat", "flower"):
        text = (tmp_path / f"{name}.log").read_text()
        assert not re.search(r"Traceback|ModuleNotFoundError|ImportError", text), f"{name}:\n{text[-3000:]}"
