"""The ceiling of measurement 1: a bare Flask POST route that parses JSON and answers 200.

Served by the same gunicorn command and settings as the shop (`gunicorn bench.ceiling:app
--config gunicorn.conf.py`), so the webhook's throughput can be given as a share of it.
"""
import json

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/midtrans/notification")
def notification():
    json.loads(request.get_data(cache=False))
    return jsonify(status="received"), 200


@app.get("/healthz")
def healthz():
    return "ok"
