"""The admin UI (Flask-Admin)."""
