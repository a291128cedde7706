"""The application shell: the CLI, the Flask app factory and the Celery wiring around the kernel."""
