from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from shop.accounts.services import MIN_PASSWORD_LENGTH
from shop.forms import REQUIRED, ShopForm, strip


def _email() -> EmailField:
    return EmailField("Email", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=254, message="Email terlalu panjang."),
        Email(message="Alamat email tidak valid.", check_deliverability=False)])


def _new_password(label: str) -> PasswordField:
    return PasswordField(label, validators=[
        InputRequired(REQUIRED),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")])


def _repeated(label: str) -> PasswordField:
    return PasswordField(label, validators=[
        InputRequired(REQUIRED), EqualTo("password", message="Kedua kata sandi tidak sama.")])


class RegisterForm(ShopForm):
    name = StringField("Nama", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=120, message="Maksimal 120 karakter.")])
    email = _email()
    password = _new_password("Kata sandi")
    confirm = _repeated("Ulangi kata sandi")


class ResetRequestForm(ShopForm):
    email = _email()


class NewPasswordForm(ShopForm):
    password = _new_password("Kata sandi baru")
    confirm = _repeated("Ulangi kata sandi baru")


class LoginForm(ShopForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("Kata sandi", validators=[InputRequired(REQUIRED), Length(max=200)])
