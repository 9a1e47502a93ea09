"""A fresh bench database, migrated to head, and payments seeded in bulk (one INSERT ... SELECT
over generate_series per table, not the ORM row by row).

Ids start at ID_BASE: order status pushes go over a Redis channel that every database on this
Redis server shares, so the bench's order ids must not be ones another test run also uses.
"""
import subprocess

import psycopg

from bench.procs import PYTHON, ROOT

ID_BASE = 70_000_000
AMOUNT = 150_000
PRODUCTS = 50
ORDERS_PER_USER = 10
BENCH_USER_EMAIL = "pembeli-{n}@bench.example"


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url` (a shop_bench_* database of the suite's own)."""
    name = url.rsplit("/", 1)[1]
    if not name.startswith("shop_bench"):
        raise SystemExit(f"refusing to recreate {name!r}: the suite only owns shop_bench* databases")
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict) -> None:
    """The Procfile's release step."""
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)


def seed_products(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO products (id, sku, name, description, price, stock, is_active, created_at) "
            "SELECT g, 'BENCH-SKU-' || g, 'Kopi Gayo ' || g, 'Biji kopi', %s, 1000000, true, now() "
            "FROM generate_series(1, %s::int) g", (AMOUNT, PRODUCTS))


def seed_payments(url: str, first: int, last: int, *, updated_ago: str = "0 seconds") -> None:
    """Payments number first..last (PENDING, one order, one line and one user per 10 orders)."""
    params = {"base": ID_BASE, "first": first, "last": last, "amount": AMOUNT, "ago": updated_ago,
              "products": PRODUCTS, "per_user": ORDERS_PER_USER}
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO users (id, email, name, password_hash, is_admin, session_version, created_at) "
            "SELECT %(base)s + g, 'pembeli-' || g || '@bench.example', 'Pembeli ' || g, '-', false, 1, now() "
            "FROM generate_series(%(first)s::int / %(per_user)s::int, %(last)s::int / %(per_user)s::int) g "
            "ON CONFLICT DO NOTHING", params)
        conn.execute(
            "INSERT INTO orders (id, user_id, status, total, shipping_name, shipping_phone, shipping_address, "
            "stock_released, needs_review, created_at, updated_at) "
            "SELECT %(base)s + g, %(base)s + g / %(per_user)s, 'PENDING', %(amount)s, 'Pembeli ' || g, "
            "'0812' || g, 'Jl. Merdeka ' || g || ', Bandung', false, false, "
            "now() - %(ago)s::interval, now() - %(ago)s::interval FROM generate_series(%(first)s::int, %(last)s::int) g", params)
        conn.execute(
            "INSERT INTO order_lines (order_id, product_id, sku, name, unit_price, quantity) "
            "SELECT %(base)s + g, 1 + g %% %(products)s, 'BENCH-SKU-' || (1 + g %% %(products)s), 'Kopi Gayo', "
            "%(amount)s, 1 FROM generate_series(%(first)s::int, %(last)s::int) g", params)
        conn.execute(
            "INSERT INTO payments (id, order_id, attempt, midtrans_order_id, status, gross_amount, "
            "amount_mismatch, redirect_url, expires_at, created_at, updated_at) "
            "SELECT %(base)s + g, %(base)s + g, 1, 'BENCH-' || g || '-1', 'PENDING', %(amount)s, false, "
            "'https://app.sandbox.midtrans.com/snap/v4/redirection/bench-' || g, now() + interval '1 day', "
            "now() - %(ago)s::interval, now() - %(ago)s::interval FROM generate_series(%(first)s::int, %(last)s::int) g",
            params)
    analyze(url)


def analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def midtrans_order_id(n: int) -> str:
    return f"BENCH-{n}-1"


def order_id(n: int) -> int:
    return ID_BASE + n


def user_id_of(n: int) -> int:
    return ID_BASE + n // ORDERS_PER_USER


def reset_payments(url: str, numbers: list[int]) -> None:
    """Put payments (and their orders) back to PENDING, so a burst applies real transitions and owes
    their e-mails anew."""
    ids = [ID_BASE + n for n in numbers]
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE payments SET status='PENDING', transaction_id=NULL, transaction_status=NULL, "
                     "fraud_status=NULL, settlement_time=NULL WHERE id = ANY(%s)", (ids,))
        conn.execute("UPDATE orders SET status='PENDING', paid_at=NULL, stock_released=false, needs_review=false "
                     "WHERE id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM inbox_messages WHERE order_id = ANY(%s)", (ids,))
        # Their e-mails too: a receipt still owed from an earlier round (its task dropped with the queue)
        # would keep the next payment's from being owed again, and it would never be sent.
        conn.execute("DELETE FROM email_outbox WHERE key = ANY(%s)",
                     ([f"order:{i}" for i in ids] + [f"payment:{i}" for i in ids],))


def counts(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("payments", "orders", "midtrans_notifications")}



