"""Fixtures for the Midtrans emulator: its own app, a live loopback server, a notification receiver."""
import base64
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from shop.emulator import make_emulator_app

SERVER_KEY = "SB-Mid-server-test"  # the key TEST_SETTINGS gives the shop, and the sbtest fixtures use
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "midtrans"
WAIT_SECONDS = 10  # an upper bound for background deliveries; tests wait on events, not on time


def pytest_configure(config):
    config.addinivalue_line("markers", "loopback: starts an in-process HTTP server on 127.0.0.1")


def sample(name: str) -> dict:
    body = json.loads((FIXTURES / name).read_text())
    body.pop("_comment", None)  # added by Midtrans's agent-skills repo; never in a real body
    return body


def basic_auth(key: str = SERVER_KEY) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


class LiveServer:
    """A WSGI app on 127.0.0.1, on a free port, in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass
class Receiver:
    """Stands in for the shop's notification route: records POSTs, answers scripted codes."""

    url: str = ""
    requests: list = field(default_factory=list)
    # path, or "path status" for one transaction_status only -> answers still to give (default 200)
    codes: dict = field(default_factory=dict)
    redirects: dict = field(default_factory=dict)  # path -> (code, Location)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def answer(self, path: str, *codes: int) -> None:
        self.codes.setdefault(path, []).extend(codes)

    def bodies(self, path: str | None = None) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if path is None or r["path"] == path]

    def wait_for(self, count: int) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, WAIT_SECONDS)

    def wsgi(self, environ, start_response):
        request = Request(environ)
        record = {"method": request.method, "path": request.path, "headers": dict(request.headers),
                  "body": request.get_data(as_text=True)}
        with self.arrived:
            status = json.loads(record["body"] or "{}").get("transaction_status")
            queue = self.codes.get(f"{request.path} {status}") or self.codes.get(request.path)
            code = queue.pop(0) if queue else 200
            self.requests.append(record)
            self.arrived.notify_all()
        if request.path in self.redirects:
            status, location = self.redirects[request.path]
            return Response("", status=status, headers={"Location": location})(environ, start_response)
        return Response("OK" if code < 300 else "no", status=code)(environ, start_response)


@pytest.fixture
def receiver():
    found = Receiver()
    with LiveServer(found.wsgi) as server:
        found.url = server.url
        yield found


@pytest.fixture
def emulator_app(tmp_path, receiver):
    return make_emulator_app({
        "BASE_URL": "http://emulator.test",
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_EMULATOR_DB": str(tmp_path / "emulator.sqlite3"),
        "MIDTRANS_EMULATOR_NOTIFICATION_URL": receiver.url + "/notify",
        "MIDTRANS_EMULATOR_RETRY_DELAYS": (0.0,),
    })


@pytest.fixture
def emulator(emulator_app):
    return emulator_app.test_client()


@pytest.fixture
def live_emulator(app, tmp_path, receiver, monkeypatch):
    """The emulator on its own port; the shop (the test app) points its gateway at it."""
    from tests.emulator.helpers import PREFIX  # helpers import this module
    emulator_app = make_emulator_app({"MIDTRANS_SERVER_KEY": SERVER_KEY, "MIDTRANS_EMULATOR_RETRY_DELAYS": (0.0,),
                                      "MIDTRANS_EMULATOR_DB": str(tmp_path / "emulator.sqlite3"),
                                      "MIDTRANS_EMULATOR_REFUND_DELAY": 0.05})
    with LiveServer(emulator_app) as server:
        emulator_app.config["BASE_URL"] = server.url
        root = server.url + PREFIX
        monkeypatch.setitem(app.config, "MIDTRANS_API_BASE_URL", root)
        monkeypatch.setitem(app.config, "MIDTRANS_SNAP_BASE_URL", root + "/snap/v1")
        # The shop sends BASE_URL + /api/midtrans/notification as X-Override-Notification.
        monkeypatch.setitem(app.config, "BASE_URL", receiver.url)
        yield server
