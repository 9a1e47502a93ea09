from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from shop.accounts.services import MIN_PASSWORD_LENGTH
from shop.forms import REQUIRED, ShopForm, strip


class RegisterForm(ShopForm):
    name = StringField("Nama", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=120, message="Maksimal 120 karakter.")])
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=254, message="Email terlalu panjang."),
        Email(message="Alamat email tidak valid.", check_deliverability=False)])
    password = PasswordField("Kata sandi", validators=[
        InputRequired(REQUIRED),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")])
    confirm = PasswordField("Ulangi kata sandi", validators=[
        InputRequired(REQUIRED), EqualTo("password", message="Kedua kata sandi tidak sama.")])


class ResetRequestForm(ShopForm):
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired(REQUIRED), Length(max=254, message="Email terlalu panjang."),
        Email(message="Alamat email tidak valid.", check_deliverability=False)])


class NewPasswordForm(ShopForm):
    password = PasswordField("Kata sandi baru", validators=[
        InputRequired(REQUIRED),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")])
    confirm = PasswordField("Ulangi kata sandi baru", validators=[
        InputRequired(REQUIRED), EqualTo("password", message="Kedua kata sandi tidak sama.")])


class LoginForm(ShopForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("Kata sandi", validators=[InputRequired(REQUIRED), Length(max=200)])
