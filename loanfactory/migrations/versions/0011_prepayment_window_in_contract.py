"""each loan's prepayment window in its contract

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:00:00

The kernel refuses a prepayment before the contract's window opens (``core.loans.prepayment``), reading
``prepayment.earliest_period`` and ``prepayment.earliest_unit`` from the loan's contract snapshot
(``loans.terms``), which booking now writes. Loans booked before it get them from their product version's
document: its ``prepayment.earliest_period`` (default 1), counted in installments, or in the product's term
unit for a bullet loan. One pass over ``loans``; a downgrade leaves the two keys, which older code ignores.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the window of each loan booked under a product version, written into ``terms.prepayment``, per dialect
WINDOW = {
    "postgresql": """
        UPDATE loans SET terms = jsonb_set(
            loans.terms::jsonb, '{prepayment}',
            COALESCE(loans.terms::jsonb -> 'prepayment', '{}'::jsonb) || jsonb_build_object(
                'earliest_period', COALESCE((v.document -> 'prepayment' ->> 'earliest_period')::integer, 1),
                'earliest_unit', CASE WHEN loans.method = 'bullet' THEN v.document -> 'term' ->> 'unit'
                                      ELSE 'installment' END))::json
        FROM product_versions v
        WHERE v.id = loans.product_version_id AND loans.terms IS NOT NULL""",
    "sqlite": """
        UPDATE loans SET terms = (
            SELECT json_set(loans.terms, '$.prepayment', json_patch(
                COALESCE(json_extract(loans.terms, '$.prepayment'), '{}'), json_object(
                    'earliest_period', COALESCE(json_extract(v.document, '$.prepayment.earliest_period'), 1),
                    'earliest_unit', CASE WHEN loans.method = 'bullet' THEN json_extract(v.document, '$.term.unit')
                                          ELSE 'installment' END)))
            FROM product_versions v WHERE v.id = loans.product_version_id)
        WHERE loans.terms IS NOT NULL
          AND EXISTS (SELECT 1 FROM product_versions v WHERE v.id = loans.product_version_id)""",
}


def upgrade() -> None:
    op.execute(WINDOW[op.get_bind().dialect.name])


def downgrade() -> None:
    pass
