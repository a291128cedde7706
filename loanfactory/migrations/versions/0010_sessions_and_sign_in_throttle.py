"""revocable sessions and the sign-in throttle

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:00:00

``users.session_version`` is part of what a signed-in session keeps; bumping it (sign-out, password, role
or active change) ends the user's sessions (:func:`core.backoffice.users.end_sessions`). Sessions signed in
before this revision keep only the user id and end at their next request. ``users.unlocked_at`` is when an
administrator last lifted the user's sign-in lock, and ``login_failures`` holds the failures the throttle
counts (:mod:`core.backoffice.signin`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    for column in ("at", "username", "address"):
        op.create_index(op.f(f"ix_login_failures_{column}"), "login_failures", [column])


def downgrade() -> None:
    for column in ("at", "username", "address"):
        op.drop_index(op.f(f"ix_login_failures_{column}"), table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unlocked_at")
        batch.drop_column("session_version")
