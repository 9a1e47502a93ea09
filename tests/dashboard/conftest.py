from tests.orders.helpers import user_loader  # noqa: F401  (autouse fixture)
