"""gunicorn settings for the `web` process (Procfile). Every value can come from the environment."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: every open order page holds a status stream (Server-Sent Events) for minutes; a greenlet
# per connection holds hundreds of them without starving other requests, where gthread would need
# a thread each. See docs/readme/pages.md.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))  # used only with GUNICORN_WORKER_CLASS=gthread
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
