"""The Celery entry point: `celery -A celery_worker worker` (or beat)."""
from shop import create_app_or_exit

flask_app = create_app_or_exit()
celery_app = flask_app.extensions["celery"]
