"""Signed notification bodies as Midtrans sends them, built by the emulator's own builder.

Each payment gets the sequence Midtrans sends for it -- pending then settlement, or pending then
expire for EXPIRE_SHARE of them -- in the order it would arrive, with DUPLICATE_SHARE of the
bodies sent once more a little later (Midtrans retries and resends).
"""
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shop.emulator.notifications import Transaction, build_notification
from shop.jakarta import to_midtrans

from bench.seed import AMOUNT, midtrans_order_id

EXPIRE_SHARE = 0.2
DUPLICATE_SHARE = 0.1
METHODS = ("bca_va", "bni_va", "bri_va", "permata_va", "echannel", "gopay", "qris", "indomaret", "alfamart")


def transaction(n: int, rng: random.Random) -> Transaction:
    started = datetime(2026, 11, 27, 8, tzinfo=timezone.utc) + timedelta(seconds=n)
    return Transaction(order_id=midtrans_order_id(n), transaction_id=f"bench-{n:08d}-{rng.getrandbits(32):08x}",
                       gross_amount=AMOUNT, method=rng.choice(METHODS), transaction_time=to_midtrans(started))


def lifecycle(n: int, key: str, rng: random.Random) -> list[dict]:
    """The bodies of payment `n`, in the order Midtrans sends them."""
    txn = transaction(n, rng)
    final = "expire" if rng.random() < EXPIRE_SHARE else "settlement"
    return [build_notification(txn, status, key) for status in ("pending", final)]


def final_body(n: int, key: str, rng: random.Random) -> dict:
    return lifecycle(n, key, rng)[-1]


def webhook_stream(numbers: list[int], key: str, seed: int = 7) -> list[str]:
    """Bodies for many payments, interleaved as they arrive, duplicates included (JSON, one per line)."""
    rng = random.Random(seed)
    stream: list[str] = []
    for n in numbers:
        for body in lifecycle(n, key, rng):
            stream.append(json.dumps(body, separators=(",", ":")))
    # Interleave: a payment's settlement arrives some time after its pending, among others'.
    window = 50
    for i in range(0, len(stream) - window, window):
        chunk = stream[i:i + window]
        rng.shuffle(chunk)
        stream[i:i + window] = chunk
    for _ in range(int(len(stream) * DUPLICATE_SHARE)):
        at = rng.randrange(len(stream))
        stream.insert(min(len(stream), at + rng.randrange(1, 200)), stream[at])
    return stream


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def status_mix(lines: list[str]) -> dict:
    mix: dict[str, int] = {}
    for line in lines:
        status = json.loads(line)["transaction_status"]
        mix[status] = mix.get(status, 0) + 1
    return mix
