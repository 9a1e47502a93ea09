"""/_dev/mail: the e-mails the shop would have sent, for a developer to read (never in production)."""
from flask import Blueprint, Response, abort, current_app, render_template

from shop.outbox import devbox

bp = Blueprint("devmail", __name__, url_prefix="/_dev/mail")


@bp.before_request
def development_only():
    # Not even mounted in production (shop.register_blueprints); refused here too, whatever mounts it.
    if current_app.config["SHOP_PRODUCTION"] or not current_app.config["DEV_MAIL_DIR"]:
        abort(404)


@bp.get("/")
def index():
    return render_template("devmail/index.html", messages=devbox.newest(current_app.config["DEV_MAIL_DIR"]))


@bp.get("/<name>")
def show(name: str):
    return render_template("devmail/show.html", message=_kept(name))


@bp.get("/<name>/html")
def html(name: str):
    message = _kept(name)
    if message.html is None:
        abort(404)
    return Response(message.html, mimetype="text/html")


def _kept(name: str) -> devbox.Kept:
    message = devbox.read(current_app.config["DEV_MAIL_DIR"], name)
    if message is None:
        abort(404)
    return message
