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
    process: bool = False  # handled as the healthy fake would, then answered after `delay` (a late answer)


@dataclass
class MidtransFake:
    requests: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)  # order or transaction id -> status body
    scripts: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    in_flight: int = 0
    most_in_flight: int = 0
    refunds: dict = field(default_factory=dict)  # refund_key -> {"ident", "amount", "reason", "id"}
    actions: list = field(default_factory=list)  # (action, ident) for cancel / expire / approve / deny done
    snaps: dict = field(default_factory=dict)  # Snap order id -> its one live token (a re-create replaces it)
    closed_snaps: set = field(default_factory=set)  # tokens closed by Snap's session cancel

    def script(self, method: str, path: str, status: int, body, delay: float = 0.0, raw: bool = False,
               process: bool = False):
        with self.lock:
            self.scripts.setdefault((method, path), []).append(Scripted(status, body, delay, raw, process))

    def answer_late_once(self, method: str, path: str, delay: float) -> None:
        """The next such request is carried out, but answered only after `delay` (the caller times out)."""
        self.script(method, path, 200, None, delay=delay, process=True)

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
            self.refunds.clear()
            self.actions.clear()
            self.snaps.clear()
            self.closed_snaps.clear()
            self.most_in_flight = self.in_flight

    def answers_status(self, body: dict, *idents: str) -> None:
        """GET status of each of `idents` (the body's transaction id unless told) answers `body`, found."""
        answer = {**body, "status_message": "Success, transaction is found"}
        for ident in idents or [body["transaction_id"]]:
            self.statuses[ident] = answer

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    def snap_creates(self) -> list[Recorded]:
        """The Snap creates (POST /snap/v1/transactions itself, not a page's cancel under it)."""
        return [r for r in self.calls("POST") if r.path == "/snap/v1/transactions"]

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
        if scripted is None or scripted.process:
            delay = scripted.delay if scripted else 0.0
            scripted = self.default(request.method, request.path, body)
            scripted.delay = delay
        if scripted.delay:
            time.sleep(scripted.delay)
        payload = scripted.body if scripted.raw else json.dumps(scripted.body)
        mimetype = "text/html" if scripted.raw else "application/json"
        return Response(payload, status=scripted.status, mimetype=mimetype)

    def default(self, method: str, path: str, body: str) -> Scripted:
        if method == "POST" and path == "/snap/v1/transactions":
            return self._snap_create(json.loads(body or "{}"))
        if method == "POST" and path.startswith("/snap/v1/transactions/") and path.endswith("/cancel"):
            return self._snap_cancel(path[len("/snap/v1/transactions/"):-len("/cancel")])
        if method == "GET" and path.startswith("/v2/") and path.endswith("/status"):
            ident = path[len("/v2/"):-len("/status")]
            found = self.statuses.get(ident)
            if found is None:
                return Scripted(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
            return Scripted(200, found)
        if method == "POST" and path.startswith("/v2/"):
            ident, _, action = path[len("/v2/"):].partition("/")
            if action == "refund":
                return self._refund(ident, json.loads(body or "{}"))
            if action in CHANGES:
                return self._change(ident, action)
        return Scripted(404, {"status_code": "404", "status_message": "The requested resource is not found"})


    def _snap_create(self, request: dict) -> Scripted:
        """Midtrans's Snap: one transaction per order id. Created again before a method is chosen, it gets a
        new token (the old one stops working); once a method is chosen (a status is known), 400."""
        order_id = (request.get("transaction_details") or {}).get("order_id")
        token = str(uuid.uuid4())
        with self.lock:
            if order_id in self.statuses:
                return Scripted(400, {"error_messages": [ORDER_ID_TAKEN]})
            self.snaps[order_id] = token
        return Scripted(201, {"token": token, "redirect_url": f"{self.url}/snap/v3/redirection/{token}"})

    def _snap_cancel(self, token: str) -> Scripted:
        """Snap's session cancel: a live page whose shopper chose no method is closed (its token stops
        working); a closed one says so; one with a method chosen is "in progress". Midtrans documents
        the messages, not their HTTP statuses: these are a guess."""
        with self.lock:
            order_id = next((o for o, t in self.snaps.items() if t == token), None)
            if token in self.closed_snaps:
                return Scripted(409, {"error_messages": ["token already canceled"]})
            if order_id is None:
                return Scripted(404, {"error_messages": ["token not found"]})
            if order_id in self.statuses:
                return Scripted(409, {"error_messages": ["Transaction is in progress"]})
            del self.snaps[order_id]
            self.closed_snaps.add(token)
            self.actions.append(("snap_cancel", order_id))
        return Scripted(200, {"canceled_at": "2026-12-03T13:09:39.776Z"})

    def _refund(self, ident: str, request: dict) -> Scripted:
        """Midtrans's refund: once per refund_key (406 after), within what was paid (414 beyond)."""
        found = self.statuses.get(ident)
        if found is None:
            return Scripted(200, {"status_code": "404", "status_message": "Transaction doesn't exist."})
        with self.lock:
            if request.get("refund_key") in self.refunds:
                return Scripted(200, {"status_code": "406", "status_message": "Duplicate refund ID"})
            paid = int(float(found["gross_amount"]))
            done = sum(r["amount"] for r in self.refunds.values() if r["ident"] == ident)
            amount = int(request.get("amount") or paid - done)
            if amount < 1 or done + amount > paid:
                return Scripted(200, {"status_code": "414", "status_message": "Refund amount exceeds the balance"})
            refund_id = len(self.refunds) + 1
            self.refunds[request["refund_key"]] = {"ident": ident, "amount": amount, "id": refund_id,
                                                   "reason": request.get("reason")}
        status = "refund" if done + amount == paid else "partial_refund"
        return Scripted(200, {**found, "status_code": "200", "status_message": "Success, refund request is approved",
                              "transaction_status": status, "refund_chargeback_id": refund_id,
                              "refund_amount": f"{amount}.00", "refund_key": request["refund_key"]})

    def _change(self, ident: str, action: str) -> Scripted:
        found = self.statuses.get(ident)
        if found is None:
            return Scripted(200, {"status_code": "404", "status_message": "Transaction doesn't exist."})
        allowed, status, code = CHANGES[action]
        if (found["transaction_status"], found.get("fraud_status")) not in allowed:
            return Scripted(200, {"status_code": "412",
                                  "status_message": "Merchant cannot modify the status of the transaction"})
        with self.lock:
            self.actions.append((action, ident))
        return Scripted(200, {**found, "status_code": code, "transaction_status": status,
                              "fraud_status": "accept" if action == "approve" else found.get("fraud_status"),
                              "status_message": f"Success, transaction is {action}d"})


ORDER_ID_TAKEN = "transaction_details.order_id has been paid and utilized, please use another order ID"
CHALLENGED = {("capture", "challenge")}
# action -> ((transaction_status, fraud_status) it is allowed for, the status after, the answer's status_code)
CHANGES = {
    "cancel": ({("pending", None), ("pending", "accept"), ("capture", "accept"), ("authorize", "accept")}
               | CHALLENGED, "cancel", "200"),
    "expire": ({("pending", None), ("pending", "accept")}, "expire", "407"),
    "approve": (CHALLENGED, "capture", "200"),
    "deny": (CHALLENGED, "deny", "200"),
}


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
