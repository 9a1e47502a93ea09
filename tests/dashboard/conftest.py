"""The dashboard's tests act as a logged-in admin."""
import pytest

from tests.factories import UserFactory
from tests.orders.helpers import log_in


@pytest.fixture
def admin(client):
    user = UserFactory(is_admin=True)
    log_in(client, user)
    return user
