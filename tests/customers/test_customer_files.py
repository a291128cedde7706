"""Customer files on SQLite and PostgreSQL: enterprises, relations, tags, their encryption and their rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from stdnum.cn import ric

from core.backoffice.audit import AuditEvent
from core.customers.enterprises import (
    Enterprise,
    change_legal_representative,
    find_by_credit_code,
    register_enterprise,
)
from core.customers.parties import ENTERPRISE, INDIVIDUAL, Customer, InvalidCustomerError, PartyRef
from core.customers.pii import blind_index
from core.customers.relations import (
    EMERGENCY_CONTACT,
    GUARANTOR,
    LEGAL_REPRESENTATIVE,
    SPOUSE,
    CustomerRelation,
    add_relation,
    relations_of,
)
from core.customers.tags import RULE, STAFF, CustomerTag, remove_staff_tag, replace_rule_tags, set_staff_tag, tags_of

CODE = "9144030071526726XG"


def id_no(birth: str, sequence: int) -> str:
    """A resident ID number of Beijing Dongcheng with its GB 11643 check digit."""
    first = f"110101{birth}{sequence:03d}"
    return first + ric.calc_check_digit(first + "0")


SECOND = id_no("19900101", 5)
THIRD = id_no("19800101", 7)
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def person(session, id_number="11010519491231002X", name="张三", phone="13812345678"):
    customer = Customer(name=name, id_number=id_number, phone=phone, address="北京市东城区　东直门 1 号")
    session.add(customer)
    session.flush()
    return customer


def enterprise_fields(**changes):
    fields = {"name": "深圳市示例科技有限公司", "credit_code": CODE, "registered_capital": Decimal("1000000.00"),
              "industry_code": "6513", "registered_address": "深圳市南山区科技园 1 号", "operating_address": None,
              "account_bank_code": "CMB", "account_number": "7559 1234 5678 901",
              "account_holder": "深圳市示例科技有限公司"}
    return {**fields, **changes}


def test_an_enterprise_file_is_stored_encrypted_and_found_by_its_credit_code(db_session):
    representative = person(db_session)
    enterprise, created = register_enterprise(db_session, representative.id, **enterprise_fields())
    db_session.commit()
    assert created
    raw = db_session.execute(text("SELECT name, credit_code, account_number, registered_address, industry_code "
                                  "FROM enterprises")).one()
    assert CODE not in raw.credit_code and "示例" not in raw.name and "7559" not in raw.account_number
    assert "南山" not in raw.registered_address and raw.industry_code == "I6513"
    db_session.expire_all()
    found = find_by_credit_code(db_session, CODE.lower())
    assert found is not None and found.id == enterprise.id
    assert found.account_number == "755912345678901" and found.registered_capital == Decimal("1000000.00")
    assert found.legal_representative_id == representative.id


def test_the_same_credit_code_is_one_enterprise_brought_up_to_date(db_session):
    representative = person(db_session)
    first, _ = register_enterprise(db_session, representative.id, **enterprise_fields())
    again, created = register_enterprise(db_session, representative.id,
                                         **enterprise_fields(operating_address="深圳市福田区 2 号"))
    assert not created and again.id == first.id and again.operating_address == "深圳市福田区 2 号"
    assert db_session.scalar(select(Enterprise.id).where(Enterprise.id != first.id)) is None


def test_another_legal_representative_under_a_known_code_is_refused_and_changed_only_by_staff(db_session):
    representative = person(db_session)
    other = person(db_session, SECOND, "李四", "13912345678")
    enterprise, _ = register_enterprise(db_session, representative.id, **enterprise_fields())
    with pytest.raises(InvalidCustomerError) as refused:
        register_enterprise(db_session, other.id, **enterprise_fields())
    assert refused.value.field == "legal_representative"
    with pytest.raises(InvalidCustomerError, match="reason"):
        change_legal_representative(db_session, enterprise, other.id, actor="ops", reason=" ")
    change_legal_representative(db_session, enterprise, other.id, actor="ops", reason="工商变更登记")
    assert enterprise.legal_representative_id == other.id
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "enterprise.legal_representative"))
    assert event.before == {"legal_representative_id": representative.id} and event.comment == "工商变更登记"


@pytest.mark.parametrize(("changes", "field"), [
    ({"credit_code": "91440300715267260G"}, "credit_code"),
    ({"industry_code": "Z99"}, "industry_code"),
    ({"registered_capital": Decimal("0")}, "registered_capital"),
    ({"account_holder": "张三"}, "account_holder"),
    ({"account_number": "12ab"}, "account_number"),
    ({"registered_address": "  "}, "registered_address"),
])
def test_a_bad_field_is_refused_by_name_and_nothing_is_stored(db_session, changes, field):
    representative = person(db_session)
    db_session.commit()
    with pytest.raises(InvalidCustomerError) as refused:
        register_enterprise(db_session, representative.id, **enterprise_fields(**changes))
    assert refused.value.field == field
    db_session.rollback()
    assert db_session.scalar(select(Enterprise.id)) is None


def test_addresses_are_normalised_before_their_blind_index(db_session):
    customer = person(db_session)
    assert customer.address == "北京市东城区 东直门 1 号"
    spelled_otherwise = Customer(name="王五", id_number=SECOND, phone="13912345678",
                                 address="北京市东城区 东直门 1 号")
    assert spelled_otherwise.address_index == customer.address_index


def test_relations_follow_their_kinds(db_session):
    borrower = person(db_session)
    spouse = person(db_session, SECOND, "李四", "13912345678")
    representative = person(db_session, THIRD, "王五", "13712345678")
    enterprise, _ = register_enterprise(db_session, representative.id, **enterprise_fields())
    me = PartyRef(INDIVIDUAL, borrower.id)
    add_relation(db_session, me, SPOUSE, actor="ops", related_customer_id=spouse.id)
    add_relation(db_session, me, EMERGENCY_CONTACT, actor="ops", contact_name="赵六", contact_phone="+86 139 0000 1111")
    add_relation(db_session, PartyRef(ENTERPRISE, enterprise.id), GUARANTOR, actor="ops",
                 related_customer_id=borrower.id)
    refusals = [
        (lambda: add_relation(db_session, me, SPOUSE, actor="ops", related_customer_id=spouse.id), "kind"),
        (lambda: add_relation(db_session, me, GUARANTOR, actor="ops", related_customer_id=borrower.id),
         "related_customer_id"),
        (lambda: add_relation(db_session, PartyRef(ENTERPRISE, enterprise.id), SPOUSE, actor="ops",
                              related_customer_id=spouse.id), "kind"),
        (lambda: add_relation(db_session, me, GUARANTOR, actor="ops", contact_name="x", contact_phone="13900001111"),
         "related_customer_id"),
        (lambda: add_relation(db_session, me, EMERGENCY_CONTACT, actor="ops", contact_name="x",
                              contact_phone="010-12345678"), "contact_phone"),
        (lambda: add_relation(db_session, me, "friend", actor="ops", related_customer_id=spouse.id), "kind"),
        (lambda: add_relation(db_session, me, GUARANTOR, actor="ops", related_customer_id=99999),
         "related_customer_id"),
    ]
    for attempt, field in refusals:
        with pytest.raises(InvalidCustomerError) as refused:
            attempt()
        assert refused.value.field == field
    mine = relations_of(db_session, me)
    assert [(r.kind, r.customer_id, r.contact_phone) for r in mine] == [
        (SPOUSE, spouse.id, None), (EMERGENCY_CONTACT, None, "13900001111")]
    theirs = relations_of(db_session, PartyRef(ENTERPRISE, enterprise.id))
    assert [(r.kind, r.customer_id) for r in theirs] == [(LEGAL_REPRESENTATIVE, representative.id),
                                                         (GUARANTOR, borrower.id)]
    stored = db_session.execute(text("SELECT contact_phone, contact_phone_index FROM customer_relations "
                                     "WHERE contact_phone IS NOT NULL")).one()
    assert "13900001111" not in stored.contact_phone
    assert stored.contact_phone_index == blind_index("13900001111", "customers.phone")


def test_a_relation_row_names_exactly_one_subject_in_the_database(db_session):
    customer = person(db_session)
    db_session.commit()
    db_session.add(CustomerRelation(kind=SPOUSE, related_customer_id=customer.id, created_by="x"))
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        db_session.flush()


def test_staff_tags_are_audited_and_rule_tags_are_replaced_whole(db_session):
    customer = person(db_session)
    me = PartyRef(INDIVIDUAL, customer.id)
    set_staff_tag(db_session, me, "vip", actor="ops", note="大客户", now=NOW)
    with pytest.raises(InvalidCustomerError, match="set already"):
        set_staff_tag(db_session, me, "VIP", actor="ops", now=NOW)
    with pytest.raises(InvalidCustomerError) as refused:
        set_staff_tag(db_session, me, "not a code!", actor="ops", now=NOW)
    assert refused.value.field == "code"
    replace_rule_tags(db_session, me, ["GOOD_PAYER", "REPEAT_BORROWER"], rule_set="customer_tags@2026-01-01",
                      now=NOW)
    replace_rule_tags(db_session, me, ["OVERDUE_NOW"], rule_set="customer_tags@2026-01-01", now=NOW)
    assert [(t.source, t.code) for t in tags_of(db_session, me)] == [(RULE, "OVERDUE_NOW"), (STAFF, "VIP")]
    with pytest.raises(InvalidCustomerError, match="reason"):
        remove_staff_tag(db_session, me, "VIP", actor="ops", reason="")
    remove_staff_tag(db_session, me, "VIP", actor="risk", reason="不再是大客户")
    assert [t.code for t in tags_of(db_session, me)] == ["OVERDUE_NOW"]
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(customer.id))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["customer.tag", "customer.untag"]
    assert db_session.scalar(select(CustomerTag.id).where(CustomerTag.source == STAFF)) is None
