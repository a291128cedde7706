"""The notifications plugin's Alembic revisions: its own branch, labelled ``notifications`` (see docs/plugins.md)."""
