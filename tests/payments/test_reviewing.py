"""Cancel, expire, approve and deny from the shop, over HTTP against the fake Midtrans."""
import json

import pytest

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments import ledger, money_workflow, reviewing
from shop.payments.models import PaymentActionKind as Kind, PaymentActionState as State, PaymentStatus as P
from shop.payments.refunding import ActionRefused
from shop.payments.timeline import order_timeline
from tests.payments.money_helpers import ADMIN, paid, waiting
from tests.payments.test_ledger import apply, status


def challenged(midtrans):
    return waiting(midtrans, "credit_card", "capture", fraud="challenge")


@pytest.mark.parametrize("make, kind", [
    (lambda m: waiting(m), Kind.CANCEL), (lambda m: waiting(m), Kind.EXPIRE),
    (challenged, Kind.CANCEL), (challenged, Kind.APPROVE), (challenged, Kind.DENY)])
def test_an_allowed_action_is_asked_of_midtrans_and_recorded_with_its_admin(midtrans, make, kind):
    payment = make(midtrans)
    result = money_workflow.act(payment.order_id, kind, ADMIN)
    assert result.ok and midtrans.actions == [(kind.value.lower(), payment.transaction_id)]
    assert payment.status in (P.PENDING, P.CHALLENGE)  # the notification moves it, not the call
    order = db.session.get(Order, payment.order_id)
    [entry] = [e for e in order_timeline(order, [], ledger.payment_actions(order.id)) if e.actor == ADMIN]
    assert entry.kind == kind.value.lower() and "diterima" in entry.description


def test_the_notification_that_follows_a_cancel_cancels_the_order(midtrans):
    payment = waiting(midtrans)
    money_workflow.act(payment.order_id, Kind.CANCEL, ADMIN)
    apply(payment, status(payment, "cancel", status_code="202"))
    assert payment.status is P.CANCELLED and payment.order.status is OrderStatus.CANCELLED


def test_approve_then_its_notification_pays_the_order(midtrans):
    payment = challenged(midtrans)
    money_workflow.act(payment.order_id, Kind.APPROVE, ADMIN)
    apply(payment, status(payment, "capture", fraud_status="accept", payment_type="credit_card"))
    assert payment.status is P.SUCCESS and ledger.order_ledger(payment.order_id).paid == payment.gross_amount


@pytest.mark.parametrize("kind, refusal", [(Kind.EXPIRE, "pending"), (Kind.APPROVE, "challenge"),
                                           (Kind.DENY, "challenge"), (Kind.CANCEL, "refund")])
def test_an_action_not_allowed_for_a_paid_order_is_refused_without_a_call(midtrans, kind, refusal):
    payment = paid(midtrans, "credit_card")
    assert reviewing.allowed_actions(payment.order) == []
    with pytest.raises(ActionRefused, match=refusal):
        money_workflow.act(payment.order_id, kind, ADMIN)
    assert midtrans.calls("POST") == []


def test_midtrans_refusing_an_action_records_it_failed(midtrans):
    payment = waiting(midtrans)
    midtrans.statuses[payment.transaction_id] = {**midtrans.statuses[payment.transaction_id],
                                                 "transaction_status": "settlement"}  # paid meanwhile
    result = money_workflow.act(payment.order_id, Kind.EXPIRE, ADMIN)
    assert result.state is State.FAILED and "412" in result.message


def test_the_offered_actions_follow_the_attempt(midtrans):
    assert reviewing.allowed_actions(waiting(midtrans).order) == [Kind.CANCEL, Kind.EXPIRE]
    assert reviewing.allowed_actions(challenged(midtrans).order) == [Kind.CANCEL, Kind.APPROVE, Kind.DENY]


@pytest.mark.parametrize("command", ["cancel", "expire"])
def test_the_commands_print_json_or_fail_with_exit_1(midtrans, runner, command):
    payment = waiting(midtrans)
    result = runner.invoke(args=["midtrans", command, str(payment.order_id), "--actor", ADMIN])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["action"] == command
    again = runner.invoke(args=["midtrans", "approve", str(payment.order_id)])
    assert again.exit_code == 1 and again.stdout == "" and "challenge" in again.stderr
