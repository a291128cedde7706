"""The example's Alembic revisions: a branch of their own, labelled ``example_rules``."""
