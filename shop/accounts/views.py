"""Register, log in, log out, reset a forgotten password."""
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import passwords, services
from shop.accounts.forms import LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from shop.caching import clear_shopper_pages
from shop.cart.views import CART_KEY
from shop.extensions import db

bp = Blueprint("accounts", __name__)

# The same words whether the e-mail has an account or not.
RESET_SENT = ("Jika email itu terdaftar, kami sudah mengirim tautan untuk membuat kata sandi baru. "
              "Periksa kotak masuk (dan folder spam) Anda.")
# What a planted session may carry into the logged-in one: the cart the shopper filled.
KEPT_AT_LOGIN = (CART_KEY,)


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


def start_logged_in_session(user) -> None:
    """Log `user` in on a fresh session: of what the cookie held before, only the cart survives.

    Flask's session is the signed cookie itself, so there is no server-side id to fix. What an
    attacker can fix is the whole cookie: one this site signed for the attacker's own visit,
    planted in the victim's browser (a shared computer, a cookie set from a sibling domain).
    Everything in it would ride into the logged-in session, above all Flask-WTF's CSRF secret,
    whose tokens the attacker then knows. So the session is cleared and re-created, which also
    rotates that secret (the next form makes a new one; `g` holds this request's copy). The cart
    is kept: a shopper who fills it and then logs in expects it at checkout, and a planted cart
    can only show items the shopper sees, priced from the catalogue, before paying.
    """
    kept = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
    session.clear()
    g.pop("csrf_token", None)
    session.update(kept)
    login_user(user)


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    form, status = RegisterForm(), 200
    if form.validate_on_submit():
        try:
            user = services.sign_up(form.email.data, form.name.data, form.password.data, request.remote_addr)
        except services.AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
            status = error.status_code
        else:
            db.session.commit()
            start_logged_in_session(user)
            flash(f"Selamat datang, {user.name}! Akun Anda sudah dibuat dan Anda sudah masuk.", "success")
            return redirect(safe_next(url_for("catalog.index")))
    return render_template("accounts/register.html", form=form), status


@bp.route("/lupa-sandi", methods=["GET", "POST"])
def forgot_password():
    form, status = ResetRequestForm(), 200
    if form.validate_on_submit():
        try:
            if passwords.request_reset(form.email.data, request.remote_addr):
                passwords.queue_reset(form.email.data)
        except services.AccountError as error:
            flash(str(error), "error")
            status = error.status_code
        else:
            flash(RESET_SENT, "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/lupa-sandi/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    try:
        passwords.user_for_token(token)
        if form.validate_on_submit():
            passwords.reset_password(token, form.password.data)
            db.session.commit()
            flash("Kata sandi sudah diganti. Silakan masuk dengan kata sandi baru.", "success")
            return redirect(url_for("accounts.login"))
    except services.AccountError as error:
        db.session.rollback()
        # A page that explains, when followed from the e-mail; a refused form when submitted.
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/reset_password.html", form=None, error=str(error)), status
    return render_template("accounts/reset_password.html", form=form, error=None)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form, status = LoginForm(), 200
    if form.validate_on_submit():
        try:
            # request.remote_addr is the client's address: ProxyFix sets it behind TRUSTED_PROXY_COUNT proxies.
            user = services.log_in(form.email.data, form.password.data, request.remote_addr)
        except services.AccountError as error:
            flash(str(error), "error")
            status = error.status_code
        else:
            db.session.commit()
            start_logged_in_session(user)
            flash(f"Selamat datang, {user.name}.", "success")
            return redirect(safe_next(url_for("catalog.index")))
    return render_template("accounts/login.html", form=form), status


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
