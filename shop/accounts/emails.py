"""The accounts' e-mails, through the outbox (shop.outbox.services): the password reset link."""
from flask import current_app
from flask_mail import Message

from shop.accounts import passwords
from shop.accounts.models import User
from shop.extensions import db
from shop.outbox import services as outbox


@outbox.renders(passwords.KIND)
def password_reset(key: str) -> Message | None:
    """The link that sets a new password; the token is made as the e-mail is sent."""
    user = db.session.get(User, int(key.split(":")[1]))
    if user is None:
        return None
    link = f"{current_app.config['BASE_URL']}/lupa-sandi/{passwords.reset_token(user)}"
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    context = dict(user=user, link=link, minutes=minutes)
    return Message(subject="Atur ulang kata sandi Toko Kita", recipients=[user.email],
                   body=outbox.render_template("emails/password_reset.txt", **context),
                   html=outbox.render_template("emails/password_reset.html", **context))
