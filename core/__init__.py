"""The loan kernel: every rule lives here; no Flask, no Celery, no commits."""
