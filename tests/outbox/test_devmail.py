"""/_dev/mail: outside production every e-mail the shop would send is kept and readable there."""
from shop.config import TEST_SETTINGS
from shop.extensions import db
from shop.outbox import devbox, services
from tests.outbox.test_outbox import KIND


def test_each_e_mail_is_listed_and_readable_with_its_message_id(other_app, tmp_path, caplog):
    with other_app(dict(TEST_SETTINGS, DEV_MAIL_DIR=str(tmp_path / "mail"))) as shop:
        email_id = services.add(KIND, "siti")
        db.session.commit()
        shop.extensions["celery"].tasks[services.SEND_EMAIL].apply(args=[email_id])
        client = shop.test_client()
        listing = client.get("/_dev/mail/").get_data(as_text=True)
        assert "Kotak masuk pengembangan" in listing and "Halo siti" in listing and "siti@example.com" in listing
        [kept] = devbox.newest(str(tmp_path / "mail"))
        page = client.get(f"/_dev/mail/{kept.name}").get_data(as_text=True)
        assert f"&lt;test.hello.{email_id}@shop.test&gt;" in page and "Lihat versi HTML" in page
        assert client.get(f"/_dev/mail/{kept.name}/html").get_data(as_text=True) == "<p>siti</p>"
        assert client.get("/_dev/mail/..%2f..%2fetc%2fpasswd").status_code == 404
        assert client.get("/_dev/mail/20260101T000000000000-00000000.eml").status_code == 404
    # Suppressed, so the log has the e-mail in full too.
    assert "suppressed (MAIL_SUPPRESS_SEND)" in caplog.text and "Subject: Halo siti\n\nHalo siti" in caplog.text


def test_without_a_folder_there_is_no_inbox_page(client):
    assert client.get("/_dev/mail/").status_code == 404
