"""The payments tests' fixtures (a payment, an SMTP server, the Redis database), for the operations tests."""
from tests.payments.conftest import broker, payment, process, smtp, verify_status  # noqa: F401
