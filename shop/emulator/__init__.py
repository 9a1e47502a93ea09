"""A local emulator of the parts of Midtrans the shop uses (never in production)."""
import logging

from flask import Flask

log = logging.getLogger(__name__)


def register_emulator(app: Flask) -> None:
    from shop.config import EMULATOR_PREFIX

    log.warning("Midtrans emulator in use at %s%s: no real payment is taken", app.config["BASE_URL"], EMULATOR_PREFIX)
