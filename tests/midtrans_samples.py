"""Midtrans's own sample bodies (tests/fixtures/midtrans, copied from its docs)."""
import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "midtrans"


def sample(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())
