"""gunicorn settings for the `web` process (Procfile). Every value can come from the environment."""
import os

# All interfaces only in production (a platform's router must reach it); elsewhere this machine alone.
_production = os.environ.get("SHOP_PRODUCTION", "").strip().lower() in {"1", "true", "yes", "on"}
bind = f"{os.environ.get('HOST', '0.0.0.0' if _production else '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: every open order page holds a status stream (Server-Sent Events) for minutes; a greenlet
# per connection holds hundreds of them without starving other requests, where gthread would need
# a thread each. See docs/pages.md ("Why gunicorn runs gevent workers").
# web_worker.py's worker adds a deadline on reading each request body (GUNICORN_REQUEST_READ_SECONDS) and a
# cap on the connections one address holds (GUNICORN_CONNECTIONS_PER_SOURCE; never a trusted proxy's).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "web_worker.ShopGeventWorker")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))  # used only with GUNICORN_WORKER_CLASS=gthread
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Also how long gevent workers wait for a request's headers: a client that trickles them is cut off.
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Refuse to start on a missing or unsafe setting in the master, before any worker: one line, exit 1."""
    from shop import exit_on_bad_settings

    exit_on_bad_settings()


def post_request(worker, req, environ, resp):
    """With gevent, let the other connections run after every answer.

    A keep-alive client that sends its next request at once (a load balancer's pooled
    connection, Midtrans retrying a burst) finds it already in the socket, so its greenlet
    would never block and never yield: every other connection of the worker waited behind it
    (p50 0.3 ms but p99 1.5 s at 16 connections on loopback). One cooperative yield per request
    makes the worker take connections in turns (p99 12 ms), at the same throughput.
    """
    if worker_class in ("gevent", "web_worker.ShopGeventWorker"):
        import gevent

        gevent.sleep(0)


def post_worker_init(worker):
    """Leave the objects the app was built from out of garbage collection.

    The loaded app is about 140,000 objects. Python's full (oldest-generation) collection walks
    them all: 77-97 ms every few seconds under load, with every request of the worker stopped,
    which was the webhook's p99 at 64 connections. Frozen, a full collection takes 2 ms.
    Nothing is lost: what the app allocates afterwards is collected as usual.
    """
    import gc

    gc.collect()
    gc.freeze()


def on_starting(server):
    """Before any worker: this web process's own, emptied, metrics directory (metrics_dir.py)."""
    from metrics_dir import prepare

    prepare("web")


def child_exit(server, worker):
    """A worker's live gauges (its open status streams) leave /metrics with it; its counters stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
