"""The product factory through the admin: generated form, errors at their fields, review, publication."""

from decimal import Decimal

from sqlalchemy import select

from admin.schema_form import build, flatten
from core.backoffice.audit import AuditEvent
from core.products import product_schema
from core.products.models import ProductVersion
from loanfactory.database import db_session


def test_a_bad_field_is_reported_at_that_field_and_nothing_is_submitted(app, login, sample_form):
    pm = login("product_manager")
    pm.get("/admin/products/new")
    form = {**sample_form(), "/overdue_grace_days": "three", "/amount/min": "60000.00"}
    page = pm.post("/admin/products/new", {**form, "_action": "validate", "_mode": "form"})
    assert page.status_code == 200
    assert 'data-pointer="/overdue_grace_days">类型错误' in page.text
    assert 'data-pointer="/amount/max">' in page.text
    assert page.text.count("is-invalid") >= 2
    with app.app_context():
        assert db_session().scalar(select(ProductVersion)) is None


def test_submitting_a_sound_product_stores_its_apr_proof(app, version_in_review):
    with app.app_context():
        version = db_session().get(ProductVersion, version_in_review)
        assert version.status == "in_review" and version.submitted_by == "product_manager"
        assert version.proof["passed"] is True
        actions = db_session().scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "product_version"))
        assert list(actions) == ["product.create_draft", "product.submit"]


def test_the_submitter_cannot_publish_a_second_product_manager_can(app, login, version_in_review):
    maker = login("product_manager")
    maker.get(f"/admin/products/{version_in_review}/review")
    refused = maker.post(f"/admin/products/{version_in_review}/publish", follow_redirects=True)
    assert "product_manager" in refused.text
    checker = login("product_manager2")
    review = checker.get(f"/admin/products/{version_in_review}/review")
    assert 'data-pointer="/code"' in review.text and "CASH_TEST" in review.text
    checker.post(f"/admin/products/{version_in_review}/publish")
    with app.app_context():
        version = db_session().get(ProductVersion, version_in_review)
    assert version.status == "published" and version.approved_by == "product_manager2"


def test_a_clone_shows_only_the_changed_fields_against_the_published_version(app, login, version_in_review):
    login("product_manager2").get(f"/admin/products/{version_in_review}/review")
    checker = login("product_manager2")
    checker.get(f"/admin/products/{version_in_review}/review")
    checker.post(f"/admin/products/{version_in_review}/publish")
    pm = login("product_manager")
    pm.get(f"/admin/products/{version_in_review}/review")
    clone = pm.post(f"/admin/products/{version_in_review}/clone")
    clone_id = int(clone.location.rstrip("/").split("/")[-1])
    editor = pm.get(clone.location)
    assert "CASH_TEST v2" in editor.text
    pm.post(f"/admin/products/{clone_id}", {**_form_of(app, clone_id), "/overdue_grace_days": "5", "_action": "submit",
                                            "_mode": "form"})
    review = login("risk_manager").get(f"/admin/products/{clone_id}/review")
    assert review.text.count('class="lf-diff-changed"') == 1
    assert 'data-pointer="/overdue_grace_days"' in review.text


def test_pause_resume_and_retire_a_published_version(app, login, version_in_review):
    checker = login("risk_manager")
    checker.get(f"/admin/products/{version_in_review}/review")
    checker.post(f"/admin/products/{version_in_review}/publish")
    for action, status in (("pause", "paused"), ("resume", "published"), ("retire", "retired")):
        checker.post(f"/admin/products/{version_in_review}/{action}", {"reason": "季度调整"})
        with app.app_context():
            assert db_session().get(ProductVersion, version_in_review).status == status


def test_expert_json_mode_is_validated_the_same_way(app, login):
    pm = login("product_manager")
    pm.get("/admin/products/new?_mode=json")
    broken = pm.post("/admin/products/new", {"_mode": "json", "document": '{"code": ', "_action": "validate"})
    assert "不是有效的 JSON" in broken.text
    wrong = pm.post("/admin/products/new", {"_mode": "json", "document": '{"code": "x"}', "_action": "validate"})
    assert 'data-pointer="/code"' in wrong.text and 'data-pointer="/amount"' in wrong.text


def test_the_live_preview_prices_the_default_loan_and_proves_the_cap(app, login, sample_form):
    pm = login("product_manager")
    pm.get("/admin/products/new")
    result = pm.post("/admin/products/preview", {**sample_form(), "_mode": "form"}).json
    assert result["ok"] is True and result["proof"]["passed"] is True
    schedule = result["schedule"]
    assert schedule["amount"] == "10000.00" and schedule["term"] == 12 and len(schedule["rows"]) == 12
    assert schedule["annual_rate"] == "14%" and schedule["apr"].endswith("%")
    assert Decimal(schedule["apr"].rstrip("%")) > Decimal(schedule["annual_rate"].rstrip("%"))


def _form_of(app, version_id):
    with app.app_context():
        return flatten(build(product_schema(), db_session().get(ProductVersion, version_id).document))



def test_a_failed_cap_proof_marks_the_fields_that_drive_the_worst_case(app, login, sample_form):
    """A maximum rate of 36% breaks the 24% cap: besides the cap itself, the preview and the check point at
    the rate's maximum (the worst case is priced at it) and at every priced fee, in the user's language."""
    pm = login("product_manager")
    pm.get("/admin/products/new")
    form = {**sample_form(), "/rate/annual/max": "36", "/rate/risk_bands#count": "0", "_mode": "form"}
    result = pm.post("/admin/products/preview", form).json
    drivers = {p["pointer"]: p["message"] for p in result["problems"] if p["code"] == "apr.cap_driver"}
    assert "/rate/annual/max" in drivers and "此项决定了最坏情况年化利率" in drivers["/rate/annual/max"]
    assert any(p["pointer"] == "/compliance/apr_cap/rate" for p in result["problems"])
    checked = pm.post("/admin/products/new", {**form, "_action": "validate"})
    assert 'class="lf-field-error invalid-feedback d-block" data-pointer="/rate/annual/max"' in checked.text
