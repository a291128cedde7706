"""an accepted offer is a state of its own

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 20:30:00

Acceptance used to leave an application ``approved`` with ``accepted_at`` in its offer; it now moves the
application to ``accepted`` (``core.states.APPLICATION_STATES``). Every ``approved`` application whose stored
offer (``applications.offer``, a plain JSON column) carries an ``accepted_at`` moves to ``accepted``, with a
state-change record saying so. Downgrading moves them back and drops those records.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "system:migration-0014"
APPLICATIONS = sa.table("applications", sa.column("id", sa.Integer), sa.column("state", sa.String),
                        sa.column("offer", sa.JSON))
TRANSITIONS = sa.table("state_transitions", sa.column("entity_type", sa.String), sa.column("entity_id", sa.Integer),
                       sa.column("from_state", sa.String), sa.column("to_state", sa.String),
                       sa.column("actor", sa.String), sa.column("at", sa.DateTime(timezone=True)),
                       sa.column("reason", sa.Text))


def _accepted_at(offer: Any) -> str | None:
    if isinstance(offer, str):  # a JSON column read back as text on some drivers
        offer = json.loads(offer)
    value = offer.get("accepted_at") if isinstance(offer, dict) else None
    return str(value) if value else None


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(APPLICATIONS.c.id, APPLICATIONS.c.offer)
                        .where(APPLICATIONS.c.state == "approved")).all()
    for application_id, offer in rows:
        accepted_at = _accepted_at(offer)
        if accepted_at is None:
            continue
        conn.execute(APPLICATIONS.update().where(APPLICATIONS.c.id == application_id).values(state="accepted"))
        conn.execute(TRANSITIONS.insert().values(
            entity_type="application", entity_id=application_id, from_state="approved", to_state="accepted",
            actor=ACTOR, at=datetime.fromisoformat(accepted_at).astimezone(UTC),
            reason="the offer was accepted before acceptance became a state"))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(APPLICATIONS.update().where(APPLICATIONS.c.state == "accepted").values(state="approved"))
    conn.execute(TRANSITIONS.delete().where(TRANSITIONS.c.entity_type == "application",
                                            TRANSITIONS.c.to_state == "accepted"))
