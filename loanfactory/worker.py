"""Entry point for Celery workers: ``celery -A loanfactory.worker worker``."""

from loanfactory.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
