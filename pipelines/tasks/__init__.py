"""Celery tasks, one module per area; each task takes ids and JSON values and records its job's progress."""
