"""The Celery entry point: `celery -A celery_worker worker` (or beat)."""
import sys

from metrics_dir import celery_role, prepare

# Before the app imports prometheus_client: a worker node's own, emptied, metrics directory.
if (role := celery_role(sys.argv)) is not None:
    prepare(role)

from shop import create_app_or_exit  # noqa: E402

flask_app = create_app_or_exit()
celery_app = flask_app.extensions["celery"]
