"""`flask midtrans ...`: operator commands around Midtrans."""
import json
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext

import click
import requests
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from shop.emulator import trigger as triggering
from shop.emulator.notifications import UnsupportedNotification
from shop.emulator.sender import HEADERS
from shop.emulator.store import EmulatorStore
from shop.extensions import db
from shop.orders.models import Order
from shop.payments import gateway, money_commands, reconciling
from shop.payments.announcing import announce_order_change
from shop.payments.models import Payment

midtrans_cli = AppGroup("midtrans", help="Midtrans tools: trigger, sign, reconcile, replay.")


@midtrans_cli.command("trigger")
@click.argument("order_id")
@click.argument("statuses")
@click.option("--payment-type", "method", type=click.Choice(triggering.METHOD_CHOICES),
              help="Method to shape the body for (default: what the payment already shows, else bca_va).")
@click.option("--url", help="Where to POST (default: BASE_URL/api/midtrans/notification).")
@click.option("--duplicate", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Send every notification N times.")
@click.option("--delay", type=click.FloatRange(0, 3600), default=0.0, show_default=True,
              help="Seconds to wait between two sends.")
def trigger(order_id: str, statuses: str, method: str | None, url: str | None, duplicate: int, delay: float):
    """POST signed notifications for ORDER_ID (a Midtrans order id), e.g. STATUSES=pending,settlement.

    Statuses: pending, capture, challenge, settlement, deny, expire, cancel, and money going back as
    if from Midtrans's dashboard: refund, partial_refund (half; each sends the requested and the
    bank-confirmed notification), chargeback, partial_chargeback. They are sent in the order given,
    so settlement,pending rehearses out-of-order delivery.
    """
    payment = db.session.scalar(db.select(Payment).filter_by(midtrans_order_id=order_id))
    if payment is None:
        raise click.ClickException(f"no payment has the Midtrans order id {order_id!r}")
    target = url or gateway.notification_url()
    store = _emulator_store()
    try:
        bodies = triggering.build_bodies(payment, triggering.parse_statuses(statuses), method,
                                         current_app.config["MIDTRANS_SERVER_KEY"], store, target)
    except UnsupportedNotification as exc:
        raise click.ClickException(str(exc)) from exc
    if store is None and current_app.config["MIDTRANS_VERIFY_STATUS"]:
        click.echo("note: the emulator is off; a shop that confirms with GET status will ask the real Midtrans.")
    sends = [body for body in bodies for _ in range(duplicate)]
    failures = sum(not _send(target, body, store, index, delay) for index, body in enumerate(sends))
    if failures:
        raise click.ClickException(f"{failures} of {len(sends)} notifications were not accepted")


def _emulator_store() -> EmulatorStore | None:
    config = current_app.config
    return EmulatorStore(config["MIDTRANS_EMULATOR_DB"]) if config["MIDTRANS_EMULATOR"] else None


def _send(url: str, body: dict, store: EmulatorStore | None, index: int, delay: float) -> bool:
    """Record `body` with the emulator, POST it, print both sides; True if answered 2xx.

    Recorded first, because the shop may confirm it with GET status before it answers; put back
    when the shop did not take it, so the emulator never tells a story the shop has not heard.
    """
    if index and delay:
        time.sleep(delay)
    undo = store.record_status(body) if store is not None else None
    delivered = _post(url, body)
    if not delivered and undo is not None and store.undo(undo):
        click.echo(f"(the emulator's record of {body['order_id']} is back as it was before this notification)")
    return delivered


def _post(url: str, body: dict) -> bool:
    payload = json.dumps(body, indent=2)
    click.echo(f"> POST {url}\n" + "".join(f"> {k}: {v}\n" for k, v in HEADERS.items()) + payload)
    try:
        response = requests.post(url, data=payload, headers=HEADERS, timeout=15, allow_redirects=False)
    except requests.RequestException as exc:
        click.echo(f"< no answer: {type(exc).__name__}: {exc}\n")
        return False
    click.echo(f"< {response.status_code} {response.reason}\n{response.text[:2000]}\n")
    return 200 <= response.status_code < 300


@midtrans_cli.command("sign")
@click.argument("file", type=click.File("r"))
def sign(file):
    """Print the notification body in FILE ('-' for stdin) re-signed with the configured server key."""
    try:
        body = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise click.ClickException(f"{file.name} must hold one JSON object (a notification body)")
    wrong = [name for name in gateway.SIGNED_FIELDS if not isinstance(body.get(name), str)]
    if wrong:
        raise click.ClickException(f"{', '.join(wrong)} must be present as strings, exactly as Midtrans sent them "
                                   '(e.g. "gross_amount": "10000.00")')
    click.echo(json.dumps(gateway.sign(body), indent=2, ensure_ascii=False))


# --- reconciliation -----------------------------------------------------------------------

@midtrans_cli.command("reconcile")
@click.option("--order", "order_id", type=click.IntRange(min=1), help="Check every payment of this shop order id.")
@click.option("--dry-run", is_flag=True, help="Ask Midtrans and print what would change; save nothing (one at a time).")
@click.option("--limit", type=click.IntRange(1, 100_000), help="Payments to check at most (default RECONCILE_BATCH_SIZE).")
@click.option("--concurrency", type=click.IntRange(min=1),
              help="Payments checked at once, each in a thread of its own (default RECONCILE_CONCURRENCY); "
                   "at most DB_POOL_SIZE, and always 1 on SQLite and for --dry-run.")
def reconcile(order_id: int | None, dry_run: bool, limit: int | None, concurrency: int | None):
    """Ask Midtrans's GET status about stale open payments (or one order's) and apply the answers.

    The same service as the beat job, run here on up to --concurrency payments at once; each one is
    committed on its own and announced (cache, e-mail) after its commit. Prints one line per
    change, in the order the checks finish.
    """
    limit = limit or current_app.config["RECONCILE_BATCH_SIZE"]
    threads = _threads_for(concurrency, dry_run)
    payment_ids, orphans = _reconcile_targets(order_id, limit)
    _save_claims(dry_run, orphans)
    for change in orphans:
        click.echo(f"order {change.order_id}: {change.before.value} -> {change.after.value} "
                   "[NO_PAYMENT_ATTEMPT: stock released]")
    checks = _check_payments(payment_ids, dry_run, threads)
    if dry_run:
        db.session.rollback()
    failed = checks.count(None)
    changed = sum(1 for check in checks if check and check.change and check.change.pages_changed)
    click.echo(f"checked {len(checks)} payments: {changed} changed, {failed} failed; "
               f"{len(orphans)} orders without payment expired" + (" (dry run: nothing saved)" if dry_run else ""))
    if failed:
        raise click.ClickException(f"{failed} of {len(checks)} payments could not be checked")


def _threads_for(requested: int | None, dry_run: bool) -> int:
    """Threads to check payments with: 1 for a dry run and on SQLite, never more than the pool's connections."""
    wanted = requested or current_app.config["RECONCILE_CONCURRENCY"]
    if wanted == 1:
        return 1
    if dry_run or db.engine.dialect.name == "sqlite":
        if requested:
            why = "a dry run keeps its claims in one transaction" if dry_run else "SQLite takes one writer at a time"
            click.echo(f"note: {why}: checking one payment at a time", err=True)
        return 1
    pool = db.engine.pool
    if isinstance(pool, QueuePool) and wanted > pool.size():
        # Threads beyond the pool would wait for the others' connections and fail after DB_POOL_TIMEOUT.
        click.echo(f"note: the database pool holds {pool.size()} connections (DB_POOL_SIZE): "
                   f"checking {pool.size()} payments at a time", err=True)
        return pool.size()
    return wanted


def _reconcile_targets(order_id: int | None, limit: int) -> tuple[list[int], list]:
    if order_id is None:
        run = reconciling.start_reconcile_run(limit)
        if run is None:
            raise click.ClickException("another reconciliation run is going on; try again in a moment")
        return run.payment_ids, run.orphans
    order = db.session.get(Order, order_id)
    if order is None:
        raise click.ClickException(f"no order has the id {order_id}")
    orphans = [reconciling.expire_orphaned_order(i) for i in reconciling.orphaned_order_ids(1, order_id)]
    return [payment.id for payment in order.payments], [change for change in orphans if change]


def _save_claims(dry_run: bool, orphans: list) -> None:
    """Commit the run's claims and expired orders (a dry run keeps one transaction to roll back)."""
    if dry_run:
        return
    db.session.commit()
    for change in orphans:
        announce_order_change(change)


def _check_payments(payment_ids: list[int], dry_run: bool, threads: int) -> list[reconciling.PaymentCheck | None]:
    """Check every payment, `threads` at a time; print each one's line as it finishes (None: failed)."""
    if threads == 1:
        return [_report(payment_id, _checked(payment_id, dry_run)) for payment_id in payment_ids]
    # The claims are committed, so this thread holds no connection while the threads hold one each.
    app = current_app._get_current_object()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="reconcile")
    try:
        futures = {pool.submit(_checked_in_context, app, payment_id): payment_id for payment_id in payment_ids}
        return [_report(futures[future], future.result()) for future in as_completed(futures)]
    finally:
        # On an error or Ctrl-C the payments not started are dropped; those in hand finish and commit.
        pool.shutdown(cancel_futures=True)


def _checked_in_context(app: Flask, payment_id: int) -> reconciling.PaymentCheck | Exception:
    """Check one payment in an app context, and so a database session, of its own."""
    with app.app_context():
        return _checked(payment_id, dry_run=False)


def _checked(payment_id: int, dry_run: bool) -> reconciling.PaymentCheck | Exception:
    """Recheck one payment; commit and announce it, or keep it for the dry run's rollback."""
    try:
        with db.session.begin_nested() if dry_run else nullcontext():
            check = reconciling.recheck_payment(payment_id)
        if not dry_run:
            db.session.commit()
    except (gateway.MidtransError, SQLAlchemyError) as exc:
        if not dry_run:
            db.session.rollback()
        return exc
    if not dry_run:
        announce_order_change(check.change)
    return check


def _report(payment_id: int, result: reconciling.PaymentCheck | Exception) -> reconciling.PaymentCheck | None:
    """Print one payment's line (a failure's on stderr); None for a failure."""
    if isinstance(result, Exception):
        click.echo(f"payment {payment_id}: not checked: {type(result).__name__}: {result}", err=True)
        return None
    click.echo(result.describe())
    return result


@midtrans_cli.command("replay")
@click.argument("notification_id", type=click.IntRange(min=1))
def replay(notification_id: int):
    """Apply stored notification NOTIFICATION_ID again (GET status first when MIDTRANS_VERIFY_STATUS is on).

    Recorded in the payment's history as a REPLAY; the original row stays as it was.
    """
    try:
        check = reconciling.replay_notification(notification_id)
        db.session.commit()
    except reconciling.NotificationNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    except gateway.MidtransError as exc:
        db.session.rollback()
        raise click.ClickException(f"Midtrans could not confirm it: {type(exc).__name__}: {exc}") from exc
    announce_order_change(check.change)
    click.echo(f"notification {notification_id} replayed as notification {check.notification_id}: {check.describe()}")


for _command in money_commands.COMMANDS:
    midtrans_cli.add_command(_command)
