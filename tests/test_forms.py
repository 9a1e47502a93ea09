"""WTForms's own messages reach people in Indonesian."""
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange
from werkzeug.datastructures import MultiDict

from shop.forms import MESSAGES, ShopForm


class SampleForm(ShopForm):
    class Meta:
        csrf = False

    name = StringField(validators=[DataRequired(), Length(max=3)])
    code = StringField(validators=[Length(min=2, max=4)])
    day = DateField()
    kind = SelectField(choices=["a", "b"])
    count = IntegerField(validators=[NumberRange(min=1, max=5)])


def errors_for(app, **data) -> dict:
    with app.test_request_context():
        form = SampleForm(formdata=MultiDict(data))
        form.validate()
        return form.errors


def test_wtforms_defaults_are_indonesian(app):
    errors = errors_for(app, name="", code="x", day="kemarin", kind="z", count="sepuluh")

    assert errors == {"name": ["Wajib diisi."], "code": ["Harus 2 sampai 4 karakter."],
                      "day": ["Tanggal tidak valid."], "kind": ["Pilihan tidak valid."],
                      "count": ["Harus berupa bilangan bulat.", "Harus antara 1 dan 5."]}


def test_length_uses_the_plural_form_too(app):
    assert errors_for(app, name="panjang", code="ab", day="2026-01-01", kind="a", count="3") == {
        "name": ["Maksimal 3 karakter."]}


def test_every_translation_keeps_the_placeholders_of_its_english_text():
    for english, indonesian in MESSAGES.items():
        assert sorted(part.split(")")[0] for part in english.split("%(")[1:]) == \
            sorted(part.split(")")[0] for part in indonesian.split("%(")[1:]), english


def test_a_field_with_an_error_points_at_its_message(client):
    html = client.post("/daftar", data={"name": "", "email": "bukan-email"}).get_data(as_text=True)

    assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html
    assert '<span class="field-error" id="email-error">Alamat email tidak valid.</span>' in html
