"""The product editor's sections: the product's fields grouped the way a product manager thinks of them.

Mambu groups a product's form and Fineract walks it step by step; the editor shows the same groups, in this
order, each collapsible with its own state (valid, or how many problems) and a progress bar over them all.
A field of the schema no section names lands in the last group, so a new schema field is never hidden; a
credit line's limit sits with the amount and term its drawdowns take, the automatic debit with repayment,
identity checks and required documents with eligibility, and the borrower's reminders with notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from admin.schema_form import Node


@dataclass(frozen=True)
class Section:
    """One group: its key (stable, used in ids), its title and the top-level fields it holds."""

    key: str
    title: object
    fields: tuple[str, ...]


SECTIONS = (
    Section("basics", _l("Basics"), ("code", "name", "description", "customer_type", "kind", "currency")),
    Section("amount-term", _l("Amount and term"), ("amount", "term", "credit_line")),
    Section("pricing", _l("Pricing"), ("rate", "day_count")),
    Section("repayment", _l("Repayment"), ("repayment", "allocation_order", "debit")),
    Section("fees-penalty", _l("Fees and penalty"), ("fees", "penalty", "overdue_grace_days")),
    Section("prepayment", _l("Prepayment"), ("prepayment",)),
    Section("eligibility", _l("Eligibility"),
            ("eligibility", "identity_checks", "documents", "collateral", "credit_limits")),
    Section("approval", _l("Approval chain"), ("approval",)),
    Section("plugins", _l("Plugins"), ("plugins",)),
    Section("compliance", _l("Compliance"), ("compliance",)),
    Section("accounting", _l("Accounting"), ("gl_accounts",)),
    Section("notifications", _l("Notifications"), ("notifications", "reminders")),
)
OTHER = Section("other", _l("Other"), ())


def sections(tree: Node) -> list[tuple[Section, list[Node]]]:
    """The form's top-level fields grouped by :data:`SECTIONS` (then any left over), empty groups dropped."""
    by_field = {child.pointer[1:]: child for child in tree.children}
    grouped = [(section, [by_field.pop(name) for name in section.fields if name in by_field])
               for section in SECTIONS]
    grouped.append((OTHER, list(by_field.values())))
    return [(section, nodes) for section, nodes in grouped if nodes]
