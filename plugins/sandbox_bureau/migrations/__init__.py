"""The sandbox_bureau plugin's Alembic revisions: its own branch, labelled ``sandbox_bureau`` (see docs/plugins.md)."""
