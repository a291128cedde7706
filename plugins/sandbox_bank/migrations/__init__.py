"""The sandbox_bank plugin's Alembic revisions: its own branch, labelled ``sandbox_bank`` (see docs/plugins.md)."""
