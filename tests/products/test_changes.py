"""Field-level diffs between versions, and the live business booked on each version."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.applications.models import Application
from core.customers.parties import Customer
from core.loans.contract import Contract
from core.loans.models import Loan
from core.products.changes import Change, diff_documents, diff_versions, impact
from core.products.versions import clone, create_draft, publish, submit, update_draft
from core.schedule import LoanTerms
from core.states import APPLICATION_STATES
from tests.products.helpers import REGISTRY, sample


def test_diff_lists_changed_added_and_removed_fields_by_pointer():
    before = sample("consumer_installment.json")
    after = sample("consumer_installment.json")
    after["rate"]["annual"]["max"] = "0.1600"
    after["fees"].pop()
    after["collateral"] = {"required": False}
    del after["description"]
    assert diff_documents(before, after) == [
        Change("/description", "removed", before=before["description"]),
        Change("/rate/annual/max", "changed", before="0.1700", after="0.1600"),
        Change("/fees/2", "removed", before=before["fees"][2]),
        Change("/collateral", "added", after={"required": False}),
    ]


def test_diff_compares_numbers_by_value_and_other_types_strictly():
    assert diff_documents({"a": Decimal("0.10")}, {"a": "0.10"}) == []
    assert diff_documents({"a": Decimal("0.10")}, {"a": "0.1"}) == []
    assert diff_documents({"a": "0.1400"}, {"a": "0.15"}) == [Change("/a", "changed", "0.1400", "0.15")]
    assert diff_documents({"a": 1}, {"a": True}) == [Change("/a", "changed", 1, True)]
    assert diff_documents({"a": "x"}, {"a": "y"}) == [Change("/a", "changed", "x", "y")]


def test_a_list_of_values_is_compared_as_a_set__removing_term_3_and_adding_36_is_two_changes():
    before = {"term": {"values": [3, 6, 9, 12, 18, 24]}}
    after = {"term": {"values": [6, 9, 12, 18, 24, 36]}}
    assert diff_documents(before, after) == [Change("/term/values", "removed", before=3),
                                             Change("/term/values", "added", after=36)]
    assert diff_documents({"a/b": [1]}, {"a/b": [1, 2]}) == [Change("/a~1b", "added", after=2)]
    order = ["penalty", "fee", "interest", "principal"]
    assert diff_documents({"o": order}, {"o": order[::-1]}) == [Change("/o", "changed", order, order[::-1])]


def test_objects_in_a_list_are_paired_by_their_name_and_the_schema_reference_is_not_a_change():
    fee = {"name": "service", "value": "0.01"}
    late = {"name": "late", "value": "50.00"}
    before = {"$schema": "a.json", "fees": [fee, late]}
    after = {"fees": [{"name": "setup", "value": "10.00"}, fee, {**late, "value": "60.00"}]}
    assert diff_documents(before, after) == [
        Change("/fees/0", "added", after={"name": "setup", "value": "10.00"}),
        Change("/fees/2/value", "changed", "50.00", "60.00")]


def test_versions_diff_and_applications_stay_pinned_to_their_version(db_session):
    first = create_draft(db_session, sample("consumer_installment.json"), actor="maker")
    submit(db_session, first, actor="maker", plugins=REGISTRY)
    publish(db_session, first, actor="checker", plugins=REGISTRY)
    customer = Customer(name="张三", id_number="11010519491231002X", phone="13812345678",
                        birth_date=date(1949, 12, 31), region="110101", monthly_income=Decimal("12000"))
    db_session.add(customer)
    db_session.flush()

    def apply(state):
        application = Application(customer_id=customer.id, channel="app", product_code=first.code,
                                  product_version_id=first.id, amount=Decimal("10000"), term=12,
                                  method="equal_installment")
        APPLICATION_STATES.start(db_session, application, actor="channel")
        application.state = state
        return application

    apply("under_review")
    apply("submitted")
    apply("rejected")
    disbursed = apply("disbursed")
    for state in ("active", "overdue", "paid_off"):
        db_session.add(Loan(application_id=disbursed.id if state == "active" else None, customer_id=customer.id,
                            product_code=first.code, product_version_id=first.id,
                            contract=Contract(LoanTerms(Decimal("10000"), Decimal("0.14"), 12, date(2026, 1, 15))),
                            state=state, disbursed_on=date(2026, 1, 15), maturity_date=date(2027, 1, 15)))
    db_session.flush()

    second = clone(db_session, first, actor="maker")
    document = sample("consumer_installment.json")
    document["rate"]["annual"]["default"] = "0.1300"
    update_draft(db_session, second, document, actor="maker")
    submit(db_session, second, actor="maker", plugins=REGISTRY)
    publish(db_session, second, actor="checker", plugins=REGISTRY)
    db_session.commit()

    assert diff_versions(first, second) == [Change("/rate/annual/default", "changed", "0.1400", "0.1300")]
    assert impact(db_session, first).as_dict() == {"version_id": first.id, "applications": 2, "loans": 2}
    assert impact(db_session, second).as_dict() == {"version_id": second.id, "applications": 0, "loans": 0}
    assert first.status == "retired" and first.document["rate"]["annual"]["default"] == "0.1400"
