"""The e-signature round trip: render the contract, sign for borrower and lender, verify, detect tampering."""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pypdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from core.plugins.types import PluginFailure, SignedDocument, Signer
from plugins.local_esign import signing
from plugins.local_esign.contract import (
    ContractTemplateError,
    ContractTermsError,
    build_contract,
    capitals,
)
from plugins.local_esign.models import SignatureRecord, SignerKey
from plugins.local_esign.render import render_pdf, wrap_lines
from tests.plugins_builtin.conftest import BORROWER, LENDER, SIGNING_TIME, contract_request, make_manager


@pytest.mark.parametrize(("amount", "words"), [
    # examples following 支付结算办法 附件一《正确填写票据和结算凭证的基本规定》
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("10000", "壹万元整"),
    ("100000.05", "壹拾万元零伍分"),
    ("1201.95", "壹仟贰佰零壹元玖角伍分"),
    ("0.50", "伍角"),
])
def test_amounts_are_written_in_chinese_capitals(amount, words):
    assert capitals(Decimal(amount)) == words


def test_contract_for_12000_at_18pct_over_12_months_states_amount_interest_and_schedule():
    content = build_contract(contract_request())
    terms = dict(content.key_terms)
    assert terms["产品名称"] == "随借随还消费贷"
    assert terms["借款本金"] == "人民币壹万贰仟元整（¥12,000.00）"
    assert terms["借款期限"] == "12个月，分12期，2026-01-15 至 2027-01-15"
    assert terms["年利率（单利）"] == "18.00%"
    assert terms["年化利率（IRR）"] == "18.00%"
    assert terms["逾期罚息年利率"] == "27.00%"  # default: contract rate + 50%
    assert terms["总利息"] == "人民币壹仟贰佰零壹元玖角伍分（¥1,201.95）"
    assert len(content.schedule) == 12
    assert content.schedule[0].total == "1,100.16"
    assert content.schedule[-1].remaining_principal == "0.00"
    assert content.schedule_totals.principal == "12,000.00"


def test_a_30_day_bullet_loan_reads_30_days_in_one_installment():
    """5,000 at 18% for 30 days, ACT/360: interest 5000 × 0.18 × 30 / 360 = 75.00, repaid with the principal."""
    request = contract_request()
    row = {"period": 1, "due_date": date(2026, 2, 14), "principal": Decimal("5000.00"), "interest": Decimal("75.00"),
           "fee": Decimal(0), "total": Decimal("5075.00"), "remaining_principal": Decimal(0)}
    terms = {**request.terms, "amount": Decimal(5000), "term": 30, "term_unit": "day", "method": "bullet",
             "schedule": [row]}
    content = build_contract(replace(request, terms=terms))
    key_terms = dict(content.key_terms)
    assert key_terms["借款期限"] == "30天，分1期，2026-01-15 至 2026-02-14"
    assert key_terms["还款方式"] == "到期还本付息"
    assert key_terms["总利息"] == "人民币柒拾伍元整（¥75.00）"
    assert "借款期限为30天" in content.clauses[1].text
    with pytest.raises(ContractTermsError) as unit:
        build_contract(replace(request, terms={**terms, "term_unit": "fortnight"}))
    assert unit.value.field == "terms.term_unit"


def test_contract_masks_the_borrowers_id_number_and_prints_the_lenders_code():
    parties = dict(build_contract(contract_request()).parties)
    assert parties["身份证号码"] == "110***********0021"
    assert parties["统一社会信用代码"] == "91110000100000000X"


def test_contract_refuses_missing_terms_and_unknown_templates():
    request = contract_request()
    terms = dict(request.terms)
    del terms["apr"]
    with pytest.raises(ContractTermsError) as missing:
        build_contract(replace(request, terms=terms))
    assert missing.value.field == "terms.apr"
    with pytest.raises(ContractTermsError) as floaty:
        build_contract(replace(request, terms={**request.terms, "method": "balloon"}))
    assert floaty.value.field == "terms.method"
    with pytest.raises(ContractTemplateError):
        build_contract(replace(request, template="no_such_template"))
    with pytest.raises(ContractTemplateError):
        build_contract(replace(request, template="../../etc/passwd"))


@pytest.fixture(scope="module")
def rendered():
    """The contract of :func:`contract_request` rendered once for the module (rendering takes a second)."""
    return make_manager().call("local_esign", "esign_render", request=contract_request())


def test_rendered_pdf_holds_the_chinese_text_and_is_reproducible(manager, rendered, caplog):
    document = rendered
    assert document.content.startswith(b"%PDF-")
    assert document.media_type == "application/pdf"
    assert document.sha256 == signing.sha256_hex(document.content)
    reader = pypdf.PdfReader(io.BytesIO(document.content))
    text_ = "".join(page.extract_text() for page in reader.pages)
    for expected in ("个人借款合同", "人民币壹万贰仟元整", "等额本息", "110***********0021", "1,100.16", "第十一条"):
        assert expected in text_
    assert "110105194912310021" not in text_
    with caplog.at_level(logging.WARNING):
        again = render_pdf.__wrapped__(build_contract(contract_request()))  # past the cache: a fresh rendering
    assert not [r for r in caplog.records if "missing" in r.getMessage()], "a glyph is missing from the font"
    assert again == document.content


def test_a_name_outside_the_common_font_cut_is_drawn_from_the_documents_extra_cut():
    """刘䶮 (䶮, U+4DAE, is in CJK Extension A, outside GB 2312 and so outside the common cut)."""
    from plugins.local_esign.fonts import common_characters
    from plugins.local_esign.render import LAYOUT_TEXT

    assert "䶮" not in common_characters(LAYOUT_TEXT) and "刘" in common_characters(LAYOUT_TEXT)
    request = replace(contract_request("LF-2026-000124"), borrower=replace(BORROWER, name="刘䶮"))
    content = render_pdf.__wrapped__(build_contract(request))
    text_ = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "借款人（乙方）" in text_ and "刘䶮" in text_
    assert render_pdf.__wrapped__(build_contract(request)) == content


def sign_both(manager, session, document) -> SignedDocument:
    signed = SignedDocument(document=document, signatures=())
    signed = manager.call("local_esign", "esign_sign", session=session, document=signed, signer=BORROWER,
                          channel="app")
    return manager.call("local_esign", "esign_sign", session=session, document=signed, signer=LENDER,
                        channel="system")


def test_sign_for_borrower_and_lender_then_verify(manager, db_session, rendered):
    signed = sign_both(manager, db_session, rendered)
    assert [(e.signer.role, e.channel, e.signed_at) for e in signed.signatures] == [
        ("borrower", "app", SIGNING_TIME), ("lender", "system", SIGNING_TIME)]
    assert all(e.sha256 == rendered.sha256 for e in signed.signatures)
    result = manager.call("local_esign", "esign_verify", session=db_session, document=signed)
    assert result.valid, result.problems
    db_session.commit()
    stored = signing.load_signed_document(db_session, rendered.contract_id)
    assert stored == signed
    assert signing.verify(stored, db_session).valid


def test_changing_one_byte_of_the_pdf_fails_verification(manager, db_session, rendered):
    signed = sign_both(manager, db_session, rendered)
    content = bytearray(signed.document.content)
    content[len(content) // 2] ^= 0x01
    tampered = replace(signed, document=replace(signed.document, content=bytes(content)))
    result = manager.call("local_esign", "esign_verify", session=db_session, document=tampered)
    assert not result.valid
    assert any("hash" in problem for problem in result.problems)


def test_changing_the_evidence_fails_verification(manager, db_session, rendered):
    signed = sign_both(manager, db_session, rendered)
    borrower, lender = signed.signatures
    later = replace(signed, signatures=(replace(borrower, signed_at=borrower.signed_at + timedelta(days=1)), lender))
    other_channel = replace(signed, signatures=(replace(borrower, channel="counter"), lender))
    impostor = replace(signed, signatures=(replace(borrower, signer=Signer("borrower", "李四", "110105195001010012")),
                                           lender))
    for tampered in (later, other_channel, impostor):
        result = signing.verify(tampered, db_session)
        assert not result.valid
        assert len(result.problems) == 1
        assert "the signature does not verify against the document and its evidence" in result.problems[0]


def test_a_signature_made_with_a_key_not_registered_to_the_signer_is_refused(manager, db_session, rendered):
    signed = sign_both(manager, db_session, rendered)
    forger = Ed25519PrivateKey.generate()
    borrower = signed.signatures[0]
    statement = signing.signed_statement(rendered.contract_id, borrower.sha256, borrower.signer, borrower.signed_at,
                                         borrower.channel)
    forged = replace(borrower, signature=base64.b64encode(forger.sign(statement)).decode(),
                     public_key=base64.b64encode(forger.public_key().public_bytes(
                         serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode())
    document = replace(signed, signatures=(forged, signed.signatures[1]))
    assert signing.verify(document).valid  # mathematically sound on its own...
    result = signing.verify(document, db_session)  # ...but not the borrower's key
    assert result.problems == ("borrower 张三丰: the public key is not registered to this signer",)


def test_a_document_signed_by_the_borrower_only_is_not_valid(manager, db_session, rendered):
    signed = manager.call("local_esign", "esign_sign", session=db_session,
                          document=SignedDocument(rendered, ()), signer=BORROWER, channel="h5")
    result = manager.call("local_esign", "esign_verify", session=db_session, document=signed)
    assert result.problems == ("lender: has not signed",)


def test_signing_refuses_altered_bytes_a_second_signature_and_unknown_channels(manager, db_session, rendered):
    altered = replace(rendered, content=rendered.content + b"\n")
    with pytest.raises(PluginFailure) as failure:
        manager.call("local_esign", "esign_sign", session=db_session, document=SignedDocument(altered, ()),
                     signer=BORROWER, channel="app")
    assert failure.value.outcome == "refused"
    assert isinstance(failure.value.cause, signing.DocumentHashMismatchError)
    once = manager.call("local_esign", "esign_sign", session=db_session, document=SignedDocument(rendered, ()),
                        signer=BORROWER, channel="app")
    with pytest.raises(PluginFailure) as twice:
        manager.call("local_esign", "esign_sign", session=db_session, document=once, signer=BORROWER, channel="app")
    assert isinstance(twice.value.cause, signing.AlreadySignedError)
    with pytest.raises(PluginFailure) as channel:
        manager.call("local_esign", "esign_sign", session=db_session, document=once, signer=LENDER, channel="fax")
    assert isinstance(channel.value.cause, signing.UnknownChannelError)


def test_one_contract_id_cannot_be_signed_over_two_different_texts(manager, db_session, rendered):
    sign_both(manager, db_session, rendered)
    content = rendered.content + b"% another text under the same contract number\n"
    other = replace(rendered, content=content, sha256=signing.sha256_hex(content))
    with pytest.raises(PluginFailure) as failure:
        manager.call("local_esign", "esign_sign", session=db_session, document=SignedDocument(other, ()),
                     signer=BORROWER, channel="app")
    assert isinstance(failure.value.cause, signing.DocumentConflictError)


def test_private_keys_are_encrypted_at_rest_and_each_signer_has_their_own(manager, db_session, rendered):
    sign_both(manager, db_session, rendered)
    db_session.commit()
    raw = db_session.execute(text("select private_key from esign_signer_keys")).scalars().all()
    assert len(raw) == 2
    assert all("PRIVATE KEY" not in value and value.startswith("dev:") for value in raw)
    keys = db_session.scalars(select(SignerKey)).all()
    assert len({k.public_key for k in keys}) == 2
    assert all("BEGIN PRIVATE KEY" in k.private_key for k in keys)  # decrypted on load
    ids = db_session.execute(text("select signer_identifier from esign_signatures")).scalars().all()
    assert all(BORROWER.identifier not in value for value in ids)
    assert {r.signer_identifier for r in db_session.scalars(select(SignatureRecord))} == {
        BORROWER.identifier, LENDER.identifier}


def test_closing_punctuation_never_starts_a_line():
    assert wrap_lines(["借款人承诺借款用于个人消费，不得用于其他用途", "。下一句", "x"]) == [
        "借款人承诺借款用于个人消费，不得用于其他用途。", "下一句", "x"]
    assert wrap_lines(["金额（人民币", "）、利率", "。"]) == ["金额（人民币）、", "利率。"]
