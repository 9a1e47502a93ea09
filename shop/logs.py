"""The shop's log lines: human (default) or one JSON object per line (LOG_FORMAT=json), never a secret.

Every line goes through `Redact`, which blanks the Midtrans server key (also as the Basic
credentials the API client sends), anything shaped like a notification signature (128 hex
digits), and values after signature_key / password / authorization. The JSON format lifts the
ids the log lines already carry (`notification=12 order=7 midtrans_order=TK-7-1 outcome=APPLIED
took_ms=3.1`) into fields: notification_id, order_id, midtrans_order_id, outcome, duration_ms.
Celery's own handlers (worker and beat) get the same filter and format when it sets them up.
"""
import base64
import json
import logging
import re
from datetime import datetime, timezone

from celery.signals import after_setup_logger, after_setup_task_logger

HIDDEN = "[disaring]"
SIGNATURE = re.compile(r"\b[0-9a-fA-F]{128}\b")
NAMED_SECRET = re.compile(r"((?:signature_key|signature|password|authorization|server_key)['\"]?\s*[:=]\s*['\"]?)"
                          r"([^'\",\s}]+)", re.IGNORECASE)
FIELDS = {"notification": "notification_id", "order": "order_id", "midtrans_order": "midtrans_order_id",
          "payment": "payment", "outcome": "outcome", "took_ms": "duration_ms", "transaction_status": "transaction_status"}
PAIR = re.compile(r"\b(" + "|".join(FIELDS) + r")=([^\s,;]+)")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class Redact(logging.Filter):
    """Blank secrets in every record's final message (its arguments merged in first)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage(), self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        record.msg, record.args = message, None
        return True


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return NAMED_SECRET.sub(lambda m: m.group(1) + HIDDEN, SIGNATURE.sub(HIDDEN, text))


def secrets_of(config) -> list[str]:
    """The server key, and the Basic credentials midtransclient makes of it."""
    key = config.get("MIDTRANS_SERVER_KEY") or ""
    return [key, base64.b64encode(f"{key}:".encode()).decode()] if key else []


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids found in it, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": message}
        event.update({FIELDS[name]: _value(value) for name, value in PAIR.findall(message)})
        if record.exc_info or record.exc_text:
            event["error"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def _value(text: str):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def prepare_handler(handler: logging.Handler, log_format: str, secrets: list[str], text=TEXT_FORMAT) -> None:
    """Give `handler` its one redacting filter (replacing an earlier one) and the JSON format, or the
    `text` one (None: keep its own, as Celery's handlers do)."""
    for old in [f for f in handler.filters if isinstance(f, Redact)]:
        handler.removeFilter(old)
    handler.addFilter(Redact(secrets))
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    elif text is not None:
        handler.setFormatter(logging.Formatter(text))


_celery_handlers = {"format": "text", "secrets": []}


def _celery_logger_ready(logger=None, **_):
    for handler in logger.handlers:
        prepare_handler(handler, _celery_handlers["format"], _celery_handlers["secrets"], text=None)


def follow_celery(log_format: str, secrets: list[str]) -> None:
    """Celery's worker and beat set up their own handlers: give them the same filter and format."""
    _celery_handlers.update(format=log_format, secrets=secrets)
    after_setup_logger.connect(_celery_logger_ready, weak=False)
    after_setup_task_logger.connect(_celery_logger_ready, weak=False)
