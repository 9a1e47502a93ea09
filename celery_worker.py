"""The Celery entry point: `celery -A celery_worker worker` (or beat)."""
from shop import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
