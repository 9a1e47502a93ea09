"""Error pages: one template, in Indonesian, with the status code of the error; JSON for the API."""
import pytest
from flask import abort


@pytest.fixture
def failing_home(app, client, monkeypatch):
    """GET / answers with the error `code` (500: an exception, as in production)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def answer(code: int, description: str | None = None, accept: str = "text/html"):
        def fail():
            if code == 500:
                raise RuntimeError("boom")
            abort(code, description)

        monkeypatch.setitem(app.view_functions, "catalog.index", fail)
        return client.get("/", headers={"Accept": accept})

    return answer


@pytest.mark.parametrize("code, text", [
    (403, "Anda tidak memiliki akses ke halaman ini."),
    (404, "Halaman tidak ditemukan."),
    (413, "Permintaan terlalu besar."),
    (500, "Terjadi kesalahan pada server. Silakan coba lagi."),
])
def test_each_error_page_says_what_happened_in_indonesian(failing_home, code, text):
    response = failing_home(code)
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert f"<title>{code} - Toko Kita</title>" in page and f"<h1>{code}</h1>" in page
    assert text in page and "Kembali ke beranda" in page


def test_another_code_shows_the_description_it_was_raised_with(failing_home):
    response = failing_home(400, "Nomor halaman tidak valid.")
    assert response.status_code == 400
    assert "Nomor halaman tidak valid." in response.get_data(as_text=True)


def test_an_unknown_path_gets_the_404_page(client):
    response = client.get("/tidak-ada-di-toko")
    assert response.status_code == 404 and "Halaman tidak ditemukan." in response.get_data(as_text=True)


def test_the_api_gets_json_not_the_page(failing_home):
    response = failing_home(404, accept="application/json")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
