"""A scriptable fake of Midtrans's HTTP API on loopback, for tests of the gateway and tasks.

Every request is recorded, and the most requests in flight at once counted. Answers come from a
per-route queue of scripted responses (`fake.script("POST", "/snap/v1/transactions", status,
body)`), falling back to a default handler that behaves like a healthy Midtrans for what the fake
knows (`fake.statuses`).
"""
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: str

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Scripted:
    status: int
    body: object
    delay: float = 0.0
    raw: bool = False  # body is sent as-is (e.g. an HTML error page)


@dataclass
class MidtransFake:
    requests: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)  # order or transaction id -> status body
    scripts: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    in_flight: int = 0
    most_in_flight: int = 0

    def script(self, method: str, path: str, status: int, body, delay: float = 0.0, raw: bool = False):
        with self.lock:
            self.scripts.setdefault((method, path), []).append(Scripted(status, body, delay, raw))

    def reset(self, drain_seconds: float = 10.0) -> None:
        """Forget every request, status and script; first let a late answer of the last test finish,
        so it neither lands in the next test's requests nor counts as in flight with its first call."""
        deadline = time.monotonic() + drain_seconds
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self.lock:
            self.requests.clear()
            self.statuses.clear()
            self.scripts.clear()
            self.most_in_flight = self.in_flight

    def answers_status(self, body: dict, *idents: str) -> None:
        """GET status of each of `idents` (the body's transaction id unless told) answers `body`, found."""
        answer = {**body, "status_message": "Success, transaction is found"}
        for ident in idents or [body["transaction_id"]]:
            self.statuses[ident] = answer

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    def wsgi(self, environ, start_response):
        request = Request(environ)
        body = request.get_data(as_text=True)
        with self.lock:
            self.requests.append(Recorded(request.method, request.path, dict(request.headers), body))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            queue = self.scripts.get((request.method, request.path))
            scripted = queue.pop(0) if queue else None
        try:
            return self._answer(request, body, scripted)(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request: Request, body: str, scripted: Scripted | None) -> Response:
        if scripted is None:
            scripted = self.default(request.method, request.path, body)
        if scripted.delay:
            time.sleep(scripted.delay)
        payload = scripted.body if scripted.raw else json.dumps(scripted.body)
        mimetype = "text/html" if scripted.raw else "application/json"
        return Response(payload, status=scripted.status, mimetype=mimetype)

    def default(self, method: str, path: str, body: str) -> Scripted:
        if method == "POST" and path == "/snap/v1/transactions":
            token = str(uuid.uuid4())
            return Scripted(201, {"token": token, "redirect_url": f"{self.url}/snap/v3/redirection/{token}"})
        if method == "GET" and path.startswith("/v2/") and path.endswith("/status"):
            ident = path[len("/v2/"):-len("/status")]
            found = self.statuses.get(ident)
            if found is None:
                return Scripted(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
            return Scripted(200, found)
        return Scripted(404, {"status_code": "404", "status_message": "The requested resource is not found"})


class FakeServer:
    """Runs a MidtransFake on 127.0.0.1 on a free port in a background thread."""

    def __init__(self):
        self.fake = MidtransFake()
        self.server = make_server("127.0.0.1", 0, self.fake.wsgi, threaded=True)
        self.fake.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: shutdown() waits up to one interval (the default is 0.5 s).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def __enter__(self) -> MidtransFake:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)
