"""The shop with its page cache switched off (NullCache), for measurement 5's uncached side.

Served exactly like the shop (`gunicorn bench.uncached:app --config gunicorn.conf.py`); every
order page is rendered from the database on every request.
"""
from shop import create_app

app = create_app({"CACHE_TYPE": "NullCache"})
