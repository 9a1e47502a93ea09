"""Shared set-up of the bench scripts: an app on the bench database, a clean slate, orders."""
import os
import sys
from pathlib import Path
from tempfile import mkdtemp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402

from shop import create_app  # noqa: E402
from shop.config import TEST_SETTINGS  # noqa: E402
from shop.extensions import cache, db  # noqa: E402
from tests.browser.server import REDIS_URL, SECRET_KEY  # noqa: E402


def database_url() -> str:
    """BENCH_DATABASE_URL (its tables are emptied!), else a new SQLite file."""
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{mkdtemp(prefix='shop-bench-')}/bench.db"


def bench_app(url: str):
    """An app like the server's: same database, Redis cache and push channel."""
    app = create_app(dict(TEST_SETTINGS, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=REDIS_URL,
                          SECRET_KEY=SECRET_KEY))
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
        empty_tables()
    return app


def empty_tables() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    cache.clear()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (f"n={len(values)} p50={percentile(values, 50):.0f} ms p95={percentile(values, 95):.0f} ms "
            f"min={min(values):.0f} max={max(values):.0f}")


def session_cookie(app, user) -> str:
    """The signed Flask session cookie of a logged-in `user` (the bench skips the login form)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": user.get_id(), "_fresh": True})
