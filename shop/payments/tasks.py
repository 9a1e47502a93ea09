"""Celery tasks of the payments feature."""
