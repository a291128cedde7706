"""The local_esign plugin's Alembic revisions: its own branch, labelled ``local_esign`` (see docs/plugins.md)."""
