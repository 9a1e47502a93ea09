"""`flask midtrans refund | cancel | expire | approve | deny ORDER_ID`: the dashboard's money actions from a shell.

ORDER_ID is the shop's order id (as in `flask shop show-order`). Each prints one JSON object on
stdout when Midtrans accepted; a refusal, Midtrans's error or an unanswered call goes to stderr
with exit status 1. They run the same services as the dashboard (shop.payments.money_workflow);
registered on the `midtrans` group by shop.payments.cli.
"""
import json

import click

from shop.payments import money_workflow
from shop.payments.models import PaymentActionKind as Kind
from shop.payments.refunding import KEY_PATTERN, ActionRefused, RefundRequest


def _emit(result: money_workflow.ActionResult) -> None:
    if not result.ok:
        raise click.ClickException(result.message + f" [{json.dumps(result.as_dict(), ensure_ascii=False)}]")
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, sort_keys=True))


def _run(action) -> None:
    try:
        result = action()
    except ActionRefused as refused:
        raise click.ClickException(str(refused)) from refused
    _emit(result)


def _key(ctx, param, value: str | None) -> str | None:
    if value is not None and not KEY_PATTERN.fullmatch(value):
        raise click.BadParameter("8-64 letters, digits, '-' or '_'")
    return value


@click.command("refund")
@click.argument("order_id", type=click.IntRange(min=1))
@click.option("--amount", type=click.IntRange(min=1), help="Rupiah to refund (default: all that may still be).")
@click.option("--reason", default=None, help="Why (sent to Midtrans, shown in the timeline).")
@click.option("--key", "refund_key", callback=_key,
              help="Send again a refund whose answer was unknown (its refund_key, printed then); never refunds twice.")
@click.option("--return-stock", is_flag=True, help="Put the order's items back in stock once Midtrans accepts.")
@click.option("--actor", default="cli", show_default=True, help="Who to record as having done it (an e-mail).")
def refund_command(order_id: int, amount: int | None, reason: str | None, refund_key: str | None,
                   return_stock: bool, actor: str):
    """Refund ORDER_ID through Midtrans (card, GoPay, QRIS, ShopeePay, DANA, OVO, Kredivo, Akulaku)."""
    request = RefundRequest(order_id, amount, reason or "", actor, refund_key, return_stock)
    _run(lambda: money_workflow.refund(request))


def _review_command(kind: Kind, summary: str) -> click.Command:
    @click.command(kind.value.lower(), help=f"{summary} ORDER_ID's attempt at Midtrans; its notification follows.")
    @click.argument("order_id", type=click.IntRange(min=1))
    @click.option("--actor", default="cli", show_default=True, help="Who to record as having done it (an e-mail).")
    def command(order_id: int, actor: str):
        _run(lambda: money_workflow.act(order_id, kind, actor))
    return command


COMMANDS = (refund_command,
            _review_command(Kind.CANCEL, "Cancel the pending, challenged or not yet settled card payment of"),
            _review_command(Kind.EXPIRE, "Expire the pending payment of"),
            _review_command(Kind.APPROVE, "Approve the card payment held by fraud review of"),
            _review_command(Kind.DENY, "Deny the card payment held by fraud review of"))
