"""`flask midtrans ...`: operator commands around Midtrans."""
import json
import time

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from shop.emulator import trigger as triggering
from shop.emulator.notifications import UnsupportedNotification
from shop.emulator.sender import HEADERS
from shop.emulator.store import EmulatorStore
from shop.extensions import db
from shop.payments import gateway
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

    Statuses: pending, capture, challenge, settlement, deny, expire, cancel. They are sent in the
    order given, so settlement,pending rehearses out-of-order delivery.
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
    """Record `body` with the emulator, POST it, print both sides; True if answered 2xx."""
    if index and delay:
        time.sleep(delay)
    if store is not None:
        store.record_status(body)
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
