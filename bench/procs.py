"""Start and stop the processes of the production shape on loopback, each in its own process group.

Everything started here is registered and stopped by `stop_all()` (the suite calls it in a
`finally`), so a failed run leaves nothing behind.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.shape import WORKER_POOL

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
START_TIMEOUT = 40  # seconds for a process to become ready
_running: list["Proc"] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """One started process (and its children, in the same process group)."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("ab")
        self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self.peak_rss: dict[int, int] = {}
        _running.append(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def group_pids(self) -> list[int]:
        """The process and its descendants (gunicorn workers, Celery pool processes)."""
        pids, frontier = [self.pid], [self.pid]
        while frontier:
            parent = frontier.pop()
            try:
                children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                pids.append(child)
                frontier.append(child)
        return pids

    def sample_peak_rss(self) -> None:
        """Remember VmHWM (the kernel's peak resident set) of every process in the group."""
        for pid in self.group_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    kib = int(line.split()[1])
                    self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), kib)

    def stop(self, timeout: float = 15) -> None:
        if self in _running:
            _running.remove(self)
        if self.alive():
            self.sample_peak_rss()
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group this process leads (start_new_session)
    except ProcessLookupError:
        pass


def stop_all() -> None:
    for proc in reversed(list(_running)):
        proc.stop()


def gunicorn(name: str, wsgi: str, env: dict, log_dir: Path) -> tuple[Proc, str]:
    """The Procfile's web command (`gunicorn <wsgi> --config gunicorn.conf.py`) on a free loopback port."""
    port = free_port()
    env = dict(env, HOST="127.0.0.1", PORT=str(port), BASE_URL=f"http://127.0.0.1:{port}")
    proc = Proc(name, [PYTHON, "-m", "gunicorn", wsgi, "--config", "gunicorn.conf.py"], env, log_dir)
    url = f"http://127.0.0.1:{port}"
    _wait(proc, lambda: requests.get(url + "/healthz", timeout=2).status_code < 600)
    return proc, url


def celery_worker(name: str, env: dict, log_dir: Path, concurrency: int, queues: str = "celery",
                  pool: str = WORKER_POOL) -> Proc:
    """The Procfile's worker command, with the bench's no-op task registered too (bench.worker)."""
    argv = [PYTHON, "-m", "celery", "-A", "bench.worker", "worker", "--loglevel=INFO", f"--pool={pool}",
            f"--concurrency={concurrency}", f"--hostname={name}@bench", f"--queues={queues}",
            "--without-mingle", "--without-gossip"]
    proc = Proc(name, argv, env, log_dir)
    _wait(proc, lambda: b"ready." in proc.log_path.read_bytes())
    return proc


def _wait(proc: Proc, ready) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
        try:
            if ready():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"{proc.name} was not ready within {START_TIMEOUT}s:\n{proc.tail()}")


def celery_beat(name: str, env: dict, log_dir: Path) -> Proc:
    """The Procfile's beat command: schedules the periodic tasks and runs them on the periodic queue."""
    argv = [PYTHON, "-m", "celery", "-A", "celery_worker", "worker", "--beat", "--queues=periodic",
            "--concurrency=1", f"--hostname={name}@bench", "--loglevel=INFO",
            f"--schedule={log_dir / (name + '-schedule')}", "--without-mingle", "--without-gossip"]
    proc = Proc(name, argv, env, log_dir)
    _wait(proc, lambda: b"ready." in proc.log_path.read_bytes())
    return proc


def prometheus(name: str, config: Path, data_dir: Path, log_dir: Path) -> tuple[Proc, str]:
    """Prometheus (the `prometheus` on PATH, Debian's) with `config` and its data in `data_dir`, on a
    free loopback port; its base URL once it says it is ready."""
    port = free_port()
    argv = [shutil.which("prometheus") or "prometheus", f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}", f"--web.listen-address=127.0.0.1:{port}"]
    proc = Proc(name, argv, dict(os.environ), log_dir)
    url = f"http://127.0.0.1:{port}"
    _wait(proc, lambda: requests.get(url + "/-/ready", timeout=2).status_code == 200)
    return proc, url
