"""The development inbox never exists in production, whatever DEV_MAIL_DIR says."""


def test_production_has_no_development_inbox(production, tmp_path, monkeypatch):
    assert production.config["DEV_MAIL_DIR"] == ""
    assert "devmail" not in production.blueprints
    client = production.test_client()
    assert client.get("/_dev/mail/").status_code == 404
    assert client.get("/_dev/mail/20260101T000000000000-00000000.eml").status_code == 404


def test_production_ignores_an_explicit_dev_mail_dir(other_app, production, tmp_path, monkeypatch):
    monkeypatch.setenv("DEV_MAIL_DIR", str(tmp_path))
    with other_app({}) as shop:
        assert shop.config["SHOP_PRODUCTION"] and shop.config["DEV_MAIL_DIR"] == ""
        assert shop.test_client().get("/_dev/mail/").status_code == 404
