"""Error pages: HTML for people, JSON for the API routes."""
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

# What the page says for these codes; any other code shows its own description (abort(400, "...")).
MESSAGES = {
    403: "Anda tidak memiliki akses ke halaman ini.",
    404: "Halaman tidak ditemukan.",
    413: "Permintaan terlalu besar.",
    500: "Terjadi kesalahan pada server. Silakan coba lagi.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def handle_http_error(error: HTTPException):
    if wants_json():
        return jsonify(error=error.name.lower().replace(" ", "_"), message=error.description), error.code
    message = MESSAGES.get(error.code, error.description)
    return render_template("errors/error.html", code=error.code, message=message), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
