"""The one transition table for payments, and what each payment status means for its order.

Midtrans delivers notifications late, twice and out of order, so a payment only moves forward
through its life (`RANK`); the moves Midtrans documents as going back (a settlement reversed
into deny for Permata VA, Mandiri Bill and Indomaret, a card capture voided into cancel) are
listed in `BACKWARD_MOVES`. A move that is neither forward nor documented is refused with
`IllegalTransition`; an older state arriving after a newer one is `StaleTransition`.
"""
import re
from dataclasses import dataclass

from shop.orders import lifecycle
from shop.orders.models import OrderStatus
from shop.payments.models import PaymentStatus as P

# How far along its life a payment is. Forward means a higher rank.
RANK = {
    P.CREATED: 0, P.PENDING: 1, P.AUTHORIZED: 2, P.CHALLENGE: 3, P.SUCCESS: 4,
    P.DENIED: 5, P.CANCELLED: 5, P.EXPIRED: 5, P.FAILED: 5,
    P.PARTIALLY_REFUNDED: 6, P.PARTIALLY_CHARGEBACK: 6, P.REFUNDED: 7, P.CHARGEBACK: 7,
}
OPEN = frozenset({P.CREATED, P.PENDING, P.AUTHORIZED, P.CHALLENGE})
FAILED = frozenset({P.DENIED, P.CANCELLED, P.EXPIRED, P.FAILED})
# Money reached the merchant at some point (refunds and chargebacks imply an earlier payment).
PAID = frozenset({P.SUCCESS, P.PARTIALLY_REFUNDED, P.REFUNDED, P.PARTIALLY_CHARGEBACK, P.CHARGEBACK})
MONEY_BACK = frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED, P.PARTIALLY_CHARGEBACK, P.CHARGEBACK})

# The status_code Midtrans signs into a notification of each status (reference 1.6). The code is
# signed and transaction_status is not: a body not confirmed by GET status must have both agree.
SIGNED_STATUS_CODE = {
    P.PENDING: "201", P.CHALLENGE: "201",
    P.DENIED: "202", P.CANCELLED: "202", P.EXPIRED: "202",
    **{paid: "200" for paid in PAID},
}

# Forward moves from a paid state: only money going back.
PAID_FORWARD = {
    P.SUCCESS: MONEY_BACK,
    P.PARTIALLY_REFUNDED: frozenset({P.REFUNDED, P.PARTIALLY_CHARGEBACK, P.CHARGEBACK}),
    P.PARTIALLY_CHARGEBACK: frozenset({P.CHARGEBACK}),
    P.REFUNDED: frozenset(),
    P.CHARGEBACK: frozenset(),
}
# Documented moves that go back in the life of a payment.
BACKWARD_MOVES = {
    (P.SUCCESS, P.DENIED): "reversal",  # Permata VA, Mandiri Bill, Indomaret only
    (P.SUCCESS, P.CANCELLED): "void",  # a card capture cancelled before settlement
}
REVERSIBLE_METHODS = frozenset({"permata", "echannel", "indomaret"})

# (transaction_status, fraud_status) -> payment status; fraud None means the field was absent.
_ANY_FRAUD = (None, "accept", "challenge", "deny")
TRANSITIONS: dict[tuple[str, str | None], P] = {
    **{("pending", f): P.PENDING for f in _ANY_FRAUD},
    ("authorize", None): P.AUTHORIZED, ("authorize", "accept"): P.AUTHORIZED,
    ("authorize", "challenge"): P.CHALLENGE, ("authorize", "deny"): P.DENIED,
    ("capture", None): P.SUCCESS, ("capture", "accept"): P.SUCCESS,
    ("capture", "challenge"): P.CHALLENGE, ("capture", "deny"): P.DENIED,
    ("settlement", None): P.SUCCESS, ("settlement", "accept"): P.SUCCESS,
    ("settlement", "challenge"): P.CHALLENGE, ("settlement", "deny"): P.DENIED,
    **{("deny", f): P.DENIED for f in _ANY_FRAUD},
    **{("cancel", f): P.CANCELLED for f in _ANY_FRAUD},
    **{("expire", f): P.EXPIRED for f in _ANY_FRAUD},
    **{("failure", f): P.FAILED for f in _ANY_FRAUD},
    **{("refund", f): P.REFUNDED for f in _ANY_FRAUD},
    **{("partial_refund", f): P.PARTIALLY_REFUNDED for f in _ANY_FRAUD},
    **{("chargeback", f): P.CHARGEBACK for f in _ANY_FRAUD},
    **{("partial_chargeback", f): P.PARTIALLY_CHARGEBACK for f in _ANY_FRAUD},
}


class TransitionError(Exception):
    """A notification cannot move the payment."""


class IllegalTransition(TransitionError):
    """Neither forward nor a documented move back: an admin must look."""


class StaleTransition(TransitionError):
    """An older state arrived after a newer one (for example pending after settlement)."""


class UnknownMidtransStatus(ValueError):
    """A transaction_status / fraud_status pair this shop does not know (yet)."""


@dataclass(frozen=True)
class PaymentEvent:
    """What one Midtrans status says happened to a payment."""

    status: P
    method: str | None = None  # "permata", "echannel", "indomaret", ... (for reversals)


def status_for(transaction_status: str | None, fraud_status: str | None) -> P:
    """Map Midtrans's pair to a payment status; raise UnknownMidtransStatus for anything else."""
    key = ((transaction_status or "").strip().lower(), _fraud(fraud_status))
    try:
        return TRANSITIONS[key]
    except KeyError:
        raise UnknownMidtransStatus(f"unknown Midtrans status {key[0]!r} fraud {key[1]!r}") from None


def _fraud(fraud_status: str | None) -> str | None:
    fraud = (fraud_status or "").strip().lower()
    return fraud or None


def next_status(current: P, event: PaymentEvent) -> P:
    """The payment's status after `event`; raises StaleTransition or IllegalTransition."""
    target = event.status
    if target == current:
        return current
    if _is_forward(current, target):
        return target
    move = BACKWARD_MOVES.get((current, target))
    if (move == "void" and event.method == "credit_card") or (
            move == "reversal" and event.method in REVERSIBLE_METHODS):
        return target
    if _is_earlier(current, target):
        raise StaleTransition(f"{target.value} arrived after {current.value}")
    raise IllegalTransition(f"{current.value} cannot become {target.value}")


def next_status_across_transactions(current: P, event: PaymentEvent, newer: bool) -> P:
    """The status after `event` from another Midtrans transaction of the same Snap order.

    One Snap order can hold several transactions (a card declined, then a VA). Money received
    always wins; a second paid transaction is for an admin; a failed one never closes an
    attempt that is still open; otherwise the newer transaction (by its time) wins.
    """
    incoming = event.status
    if incoming in PAID and current in PAID:
        raise IllegalTransition("a second transaction of the same order was paid")
    if incoming in PAID:
        return next_status(P.CREATED, event)
    if current in PAID or (incoming in FAILED and current in OPEN) or not newer:
        raise StaleTransition(f"{incoming.value} from another, older or lesser transaction")
    return next_status(P.CREATED, event)


def _is_earlier(current: P, target: P) -> bool:
    """`target` comes before `current` on a path Midtrans really takes (a late delivery)."""
    if target in FAILED:
        return current in FAILED  # the first failure of a transaction is its last word
    return RANK[target] < RANK[current]


def _is_forward(current: P, target: P) -> bool:
    if current in PAID:
        return target in PAID_FORWARD[current]
    if current in FAILED:
        return False
    return RANK[target] > RANK[current]


def method_of(details: dict) -> str | None:
    """The payment method that decides whether a settlement may be reversed."""
    payment_type = (details.get("payment_type") or "").lower()
    if payment_type == "bank_transfer":
        if details.get("permata_va_number"):
            return "permata"
        banks = [str(va.get("bank", "")).lower() for va in details.get("va_numbers") or [] if isinstance(va, dict)]
        return banks[0] if banks else None
    if payment_type == "cstore":
        return (details.get("store") or "").lower() or None
    return payment_type or None


_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,14})(\.0{1,2})?")


def parse_rupiah(value) -> int | None:
    """Midtrans's gross_amount ("10000.00") as whole rupiah; None when it is not one exactly."""
    if not isinstance(value, str):
        return None
    match = _AMOUNT.fullmatch(value)
    return int(match.group(1)) if match else None


# --- what an attempt means for its order (the order's own rule: shop.orders.lifecycle) ------

ORDER_MEANING = {
    P.CREATED: OrderStatus.PENDING, P.PENDING: OrderStatus.PENDING, P.AUTHORIZED: OrderStatus.PENDING,
    P.CHALLENGE: OrderStatus.REVIEW, P.SUCCESS: OrderStatus.SUCCESS,
    P.PARTIALLY_REFUNDED: OrderStatus.PARTIALLY_REFUNDED, P.REFUNDED: OrderStatus.REFUNDED,
    P.PARTIALLY_CHARGEBACK: OrderStatus.CHARGEBACK, P.CHARGEBACK: OrderStatus.CHARGEBACK,
    P.DENIED: OrderStatus.FAILED, P.FAILED: OrderStatus.FAILED,
    P.CANCELLED: OrderStatus.CANCELLED, P.EXPIRED: OrderStatus.EXPIRED,
}


def order_status_for(order) -> OrderStatus:
    """The status `order` should have given all its payment attempts."""
    return lifecycle.status_from_attempts(
        order.status, [(payment.attempt, ORDER_MEANING[payment.status]) for payment in order.payments])
