"""The transition table: every Midtrans pair, every move between payment statuses."""
import pytest

from shop.payments.models import PaymentStatus as P
from shop.payments.states import (IllegalTransition, PaymentEvent, StaleTransition, UnknownMidtransStatus,
                                  method_of, next_status, next_status_across_transactions, parse_rupiah,
                                  status_for)

# What every (transaction_status, fraud_status) pair means; fraud None = the field is absent.
EXPECTED_STATUS = {
    "pending": dict.fromkeys([None, "accept", "challenge", "deny"], P.PENDING),
    "authorize": {None: P.AUTHORIZED, "accept": P.AUTHORIZED, "challenge": P.CHALLENGE, "deny": P.DENIED},
    "capture": {None: P.SUCCESS, "accept": P.SUCCESS, "challenge": P.CHALLENGE, "deny": P.DENIED},
    "settlement": {None: P.SUCCESS, "accept": P.SUCCESS, "challenge": P.CHALLENGE, "deny": P.DENIED},
    "deny": dict.fromkeys([None, "accept", "challenge", "deny"], P.DENIED),
    "cancel": dict.fromkeys([None, "accept", "challenge", "deny"], P.CANCELLED),
    "expire": dict.fromkeys([None, "accept", "challenge", "deny"], P.EXPIRED),
    "failure": dict.fromkeys([None, "accept", "challenge", "deny"], P.FAILED),
    "refund": dict.fromkeys([None, "accept", "challenge", "deny"], P.REFUNDED),
    "partial_refund": dict.fromkeys([None, "accept", "challenge", "deny"], P.PARTIALLY_REFUNDED),
    "chargeback": dict.fromkeys([None, "accept", "challenge", "deny"], P.CHARGEBACK),
    "partial_chargeback": dict.fromkeys([None, "accept", "challenge", "deny"], P.PARTIALLY_CHARGEBACK),
}
PAIRS = [(t, f, s) for t, by_fraud in EXPECTED_STATUS.items() for f, s in by_fraud.items()]


@pytest.mark.parametrize("transaction_status,fraud_status,expected", PAIRS)
def test_every_midtrans_pair_maps_to_one_status(transaction_status, fraud_status, expected):
    assert status_for(transaction_status, fraud_status) is expected
    assert status_for(transaction_status.upper(), (fraud_status or "").upper() or None) is expected


@pytest.mark.parametrize("transaction_status,fraud_status", [
    ("settled", None), ("", None), (None, None), ("capture", "review"), ("refunded", "accept"),
])
def test_unknown_pairs_are_refused_by_name(transaction_status, fraud_status):
    with pytest.raises(UnknownMidtransStatus):
        status_for(transaction_status, fraud_status)


# Rows: current status; columns: the status a notification says. ">" moves there, "=" same,
# "s" stale (a late delivery: ignored), "x" illegal (an admin looks), "r" only for a reversible
# method (Permata, Mandiri Bill, Indomaret), "v" only for a card (void of a capture).
ORDER = [P.CREATED, P.PENDING, P.AUTHORIZED, P.CHALLENGE, P.SUCCESS, P.DENIED, P.CANCELLED, P.EXPIRED,
         P.FAILED, P.PARTIALLY_REFUNDED, P.PARTIALLY_CHARGEBACK, P.REFUNDED, P.CHARGEBACK]
MATRIX = """
CREATED              = > > > > > > > > > > > >
PENDING              s = > > > > > > > > > > >
AUTHORIZED           s s = > > > > > > > > > >
CHALLENGE            s s s = > > > > > > > > >
SUCCESS              s s s s = r v x x > > > >
DENIED               s s s s s = s s s x x x x
CANCELLED            s s s s s s = s s x x x x
EXPIRED              s s s s s s s = s x x x x
FAILED               s s s s s s s s = x x x x
PARTIALLY_REFUNDED   s s s s s x x x x = > > >
PARTIALLY_CHARGEBACK s s s s s x x x x x = x >
REFUNDED             s s s s s x x x x s s = x
CHARGEBACK           s s s s s x x x x s s x =
"""
CELLS = [(P[row.split()[0]], ORDER[i], mark)
         for row in MATRIX.strip().splitlines() for i, mark in enumerate(row.split()[1:])]


def test_the_matrix_covers_every_pair():
    assert len(CELLS) == len(P) ** 2 == 169


@pytest.mark.parametrize("current,target,mark", CELLS, ids=[f"{c.value}->{t.value}" for c, t, _ in CELLS])
def test_transition_matrix(current, target, mark):
    for method in ("credit_card", "permata", "gopay"):
        event = PaymentEvent(target, method)
        allowed = mark in "=>" or (mark == "r" and method == "permata") or (mark == "v" and method == "credit_card")
        if allowed:
            assert next_status(current, event) is target
        elif mark == "s":
            with pytest.raises(StaleTransition):
                next_status(current, event)
        else:
            with pytest.raises(IllegalTransition):
                next_status(current, event)


@pytest.mark.parametrize("method", ["permata", "echannel", "indomaret"])
def test_settlement_reversal_is_legal_for_the_documented_methods(method):
    assert next_status(P.SUCCESS, PaymentEvent(P.DENIED, method)) is P.DENIED


@pytest.mark.parametrize("current,incoming,newer,expected", [
    (P.DENIED, P.PENDING, True, P.PENDING),  # card declined, then the shopper chose a VA
    (P.DENIED, P.SUCCESS, False, P.SUCCESS),  # money always wins, whatever the times say
    (P.PENDING, P.DENIED, True, StaleTransition),  # another attempt failing keeps this one open
    (P.SUCCESS, P.EXPIRED, True, StaleTransition),
    (P.EXPIRED, P.PENDING, False, StaleTransition),  # an older attempt's late pending
    (P.EXPIRED, P.EXPIRED, True, P.EXPIRED),
    (P.SUCCESS, P.SUCCESS, True, IllegalTransition),  # paid twice: an admin refunds one
])
def test_another_transaction_of_the_same_order(current, incoming, newer, expected):
    event = PaymentEvent(incoming, "bca")
    if isinstance(expected, type):
        with pytest.raises(expected):
            next_status_across_transactions(current, event, newer)
    else:
        assert next_status_across_transactions(current, event, newer) is expected


@pytest.mark.parametrize("details,method", [
    ({"payment_type": "bank_transfer", "permata_va_number": "8562000087926752"}, "permata"),
    ({"payment_type": "bank_transfer", "va_numbers": [{"bank": "BCA", "va_number": "1"}]}, "bca"),
    ({"payment_type": "echannel", "bill_key": "990000000260"}, "echannel"),
    ({"payment_type": "cstore", "store": "indomaret"}, "indomaret"),
    ({"payment_type": "credit_card"}, "credit_card"),
    ({}, None),
])
def test_method_of(details, method):
    assert method_of(details) == method


@pytest.mark.parametrize("text,amount", [
    ("10000.00", 10000), ("10000", 10000), ("10000.0", 10000), ("0.00", 0), ("999999999999999.00", 999999999999999),
    ("1e4", None), ("10000.5", None), ("10000.50", None), ("-10000.00", None), ("abc", None), ("", None),
    (" 10000.00", None), ("010000.00", None), ("1000000000000000.00", None), ("10,000.00", None),
    (10000, None), (None, None), ("10000.000", None), ("１００００", None),
])
def test_gross_amount_is_parsed_strictly(text, amount):
    assert parse_rupiah(text) == amount
