"""The e-mail outbox: every e-mail the shop sends is a row keyed by (kind, key), claimed before it
is sent and recorded after, so each goes out once (see services.py)."""
