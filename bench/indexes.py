"""Measurement 7's check: every statement the webhook and the task run, EXPLAINed on the big table.

The statements are captured from the real code paths (record_notification + commit, then the
notification task and the payment e-mail task it queues, run eagerly) in this process against the
bench database; any sequential scan of a table that grows with the shop is reported.
"""
import logging
import random

from sqlalchemy import event

from bench.bodies import final_body
from bench.seed import reset_payments
from bench.shape import SERVER_KEY

GROWING = ("payments", "orders", "order_lines", "midtrans_notifications", "inbox_messages", "users")


def explain_hot_paths(database_url: str, numbers: list[int]) -> dict:
    import json

    from shop import create_app
    from shop.extensions import db
    from shop.payments import receiving

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                      "REDIS_URL": "", "CELERY_BROKER_URL": "", "MIDTRANS_SERVER_KEY": SERVER_KEY,
                      "MIDTRANS_VERIFY_STATUS": False, "MIDTRANS_EMULATOR": False})
    logging.getLogger().setLevel(logging.WARNING)  # create_app logs at INFO; the report is stdout
    reset_payments(database_url, numbers)
    statements: list[tuple[str, object]] = []
    rng = random.Random(11)
    task = app.extensions["celery"].tasks["payments.process_notification"]
    with app.app_context():
        engine = db.engine
        listen = lambda conn, cursor, sql, params, context, many: statements.append((sql, params))  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            for n in numbers:
                notification = receiving.record_notification(json.dumps(final_body(n, SERVER_KEY, rng)).encode())
                db.session.commit()
                task.apply(args=[notification.id])
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return _explain_all(engine, statements)


def _explain_all(engine, statements) -> dict:
    seen, scans = {}, []
    with engine.connect() as conn:
        for sql, params in statements:
            if sql in seen or not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")):
                continue
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params))
            seen[sql] = plan
            scans += [f"{line.strip()}  <- {sql[:120]}" for line in plan.splitlines()
                      if "Seq Scan on" in line and any(f" {t} " in line + " " for t in GROWING)]
        conn.rollback()
    return {"statements": len(seen), "sequential_scans": scans}
