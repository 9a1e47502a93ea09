"""Reading orders for their pages: the shopper's own, and any order for the dashboard."""
from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.extensions import db
from shop.orders.models import Order, OrderStatus

ORDERS_PER_PAGE = 10


def get_order_for(user: User, order_id: int) -> Order:
    """Load one of `user`'s orders, or answer 404 (also for someone else's: ids leak nothing)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.user_id == user.id))
    if order is None:
        abort(404)
    return order


def list_orders_for(user: User, page: int) -> Pagination:
    """One page of `user`'s orders, newest first."""
    query = (select(Order).where(Order.user_id == user.id)
             .options(selectinload(Order.lines))
             .order_by(Order.created_at.desc(), Order.id.desc()))
    return db.paginate(query, page=page, per_page=ORDERS_PER_PAGE, error_out=False)


def order_status(order_id: int) -> OrderStatus:
    """The order's status as stored now (never cached, never asked from Midtrans)."""
    return db.session.scalar(select(Order.status).where(Order.id == order_id))


def order_stamp(order: Order) -> str:
    """Changes whenever the order row changes: tells a cached page it is out of date."""
    return f"{order.status.value}@{order.updated_at.isoformat()}"


def orders_stamp(user: User | None = None) -> str:
    """Changes when one of the orders (of `user`, or of anyone) is added or changed."""
    query = select(func.count(Order.id), func.max(Order.updated_at))
    if user is not None:
        query = query.where(Order.user_id == user.id)
    count, latest = db.session.execute(query).one()
    return f"{count}@{latest}"


def get_order_for_admin(order_id: int) -> Order:
    """Load any order, or answer 404 (the dashboard is for admins only)."""
    return db.get_or_404(Order, order_id)
