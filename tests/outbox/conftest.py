"""Fixtures for the outbox tests: another app (with a development inbox) on the test database."""
from tests.security.conftest import other_app  # noqa: F401
