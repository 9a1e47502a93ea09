"""The WSGI entry point: `gunicorn wsgi:app`."""
from shop import create_app_or_exit

app = create_app_or_exit()
