"""Error pages: HTML for people, JSON for the API routes."""
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def handle_http_error(error: HTTPException):
    if wants_json():
        return jsonify(error=error.name.lower().replace(" ", "_"), message=error.description), error.code
    template = f"errors/{error.code}.html" if error.code in (403, 404, 413, 500) else "errors/generic.html"
    return render_template(template, error=error), error.code


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
