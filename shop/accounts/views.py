"""Register, log in, log out."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import services
from shop.accounts.forms import LoginForm, RegisterForm
from shop.caching import clear_shopper_pages
from shop.extensions import db

bp = Blueprint("accounts", __name__)


def safe_next(default: str) -> str:
    """The `next` target if it stays on this site, else `default` (no open redirect)."""
    target = request.args.get("next", "")
    return target if is_local_path(target) else default


def is_local_path(target: str) -> bool:
    r"""A path on this site: never "//host", "/\host" or "/<TAB>/host" (browsers, and werkzeug's
    redirect too, drop tabs and newlines from a URL, which turns the last one into "//host")."""
    if not target.startswith("/") or "\\" in target:
        return False
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    return not target.startswith("//")


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(form.email.data, form.name.data, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            login_user(user)
            flash("Akun berhasil dibuat. Selamat berbelanja!", "success")
            return redirect(safe_next(url_for("catalog.index")))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as error:
            db.session.commit()  # keeps the failure count
            flash(str(error), "error")
        else:
            db.session.commit()
            login_user(user)
            flash(f"Selamat datang, {user.name}.", "success")
            return redirect(safe_next(url_for("catalog.index")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    user_id = current_user.id
    services.end_sessions(current_user)
    db.session.commit()
    # Every old session cookie is refused from now on; its cached order pages must go with it.
    clear_shopper_pages(user_id)
    logout_user()
    session.clear()
    flash("Anda sudah keluar.", "success")
    return redirect(url_for("catalog.index"))
