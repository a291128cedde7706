"""The plugin author's test kit: a pytest plugin with fixtures and contract tests per hook family.

Installed with the project (entry point ``pytest11``), so any test suite in the environment has it:

Fixtures:
    ``plugin_manager``: a manager loaded like the app's (built-ins and ``loanfactory`` entry points), on a
        clock stopped at :data:`PLUGIN_TEST_TIME`.
    ``register_plugin``: ``register_plugin(obj, name)`` registers a plugin object for one test only.
    ``contract_manager`` / ``contract_session``: what the contract classes below run on (override
        ``contract_session`` in a conftest to run them on another database).

Contract tests: subclass the family's contract and name your plugin; pytest collects the subclass::

    from plugins.testing import ScoringContract

    class TestMyScorer(ScoringContract):
        plugin_name = "my_scorer"            # the name it registers under
        plugin_module = "my_package.plugin"  # only if it is not installed through an entry point
        plugin_config = {"threshold": 3}     # its PLUGIN_CONFIG entry, if any

Each contract lists the hooks it ``covers``; the project's meta-test checks that every hook spec is
covered by a contract and documented. ``CommandsContract`` and ``SchemaContract`` check the setup hooks
(``register_commands``, ``plugin_schema``); the second migrates a scratch SQLite database (core and the
plugin's branch) and compares it with the plugin's models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from core.db.base import Base, make_engine, make_session_factory
from core.plugins.manager import DEFAULT_PLUGINS, PluginManager, PluginSettings
from core.plugins.types import (
    ApplicantProfile,
    ApplicationFacts,
    BankAccount,
    BureauAccount,
    BureauAccountEvent,
    BureauConsent,
    BureauQuery,
    BureauReport,
    CallbackSignatureError,
    ConsentRequiredError,
    ContractRequest,
    CourtRecord,
    DebitBatch,
    IdentityQuery,
    IdentityResult,
    LifecycleEvent,
    NotificationRequest,
    PaymentRequest,
    PluginFailure,
    RefundRequest,
    SignedDocument,
    Signer,
    TemplateNotFoundError,
    TemplateVariableMissingError,
)

PLUGIN_TEST_TIME = datetime(2026, 1, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
GRID_SYMBOLS = set("N1234567CGDZBM*#/")


def build_manager(config: dict[str, Any] | None = None, extra: tuple[str, ...] = (),
                  clock: Callable[[], datetime] = lambda: PLUGIN_TEST_TIME) -> PluginManager:
    """A manager loaded like the app's: built-ins, entry points, then ``extra`` module paths."""
    settings = PluginSettings(plugin_config=config or {}, extra=extra, default_timeout=30.0)
    manager = PluginManager(settings, clock=clock)
    manager.load(DEFAULT_PLUGINS)
    return manager


@pytest.fixture
def plugin_manager() -> PluginManager:
    """A freshly loaded manager (built-ins and installed third parties)."""
    return build_manager()


@pytest.fixture
def register_plugin(plugin_manager: PluginManager) -> Iterator[Callable[[object, str], str]]:
    """``register_plugin(obj, name)``: register ``obj`` in ``plugin_manager`` until the test ends."""
    names: list[str] = []

    def register(plugin: object, name: str) -> str:
        plugin_manager.register(plugin, name)
        names.append(name)
        return name

    yield register
    for name in names:
        if plugin_manager.pm.get_plugin(name) is not None:
            plugin_manager.unregister(name)


@pytest.fixture
def contract_manager(request: pytest.FixtureRequest) -> PluginManager:
    """The manager a contract class runs on, holding its ``plugin_name``."""
    cls = request.cls
    manager = build_manager({cls.plugin_name: dict(cls.plugin_config)},
                            extra=(cls.plugin_module,) if cls.plugin_module else ())
    manager.plugin(cls.plugin_name)
    return manager


@pytest.fixture
def contract_session(contract_manager: PluginManager, tmp_path: Path) -> Iterator[Any]:
    """A session on a fresh SQLite database with every table (the plugins' own included)."""
    engine = make_engine(f"sqlite:///{tmp_path}/contract.sqlite3")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


class Contract:
    """What every family contract shares: the plugin under test and a way to call it."""

    plugin_name: ClassVar[str]
    plugin_module: ClassVar[str | None] = None
    plugin_config: ClassVar[dict[str, Any]] = {}
    covers: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture(autouse=True)
    def _bind(self, contract_manager: PluginManager, contract_session: Any) -> None:
        self.manager = contract_manager
        self.session = contract_session

    def call(self, hook: str, **kwargs: Any) -> Any:
        return self.manager.call(self.plugin_name, hook, session=self.session, **kwargs)

    def refusal(self, hook: str, **kwargs: Any) -> BaseException | None:
        """Call ``hook`` expecting a deliberate refusal; returns the plugin's error."""
        with pytest.raises(PluginFailure) as failure:
            self.call(hook, **kwargs)
        assert failure.value.outcome == "refused", f"expected a refusal, got {failure.value}"
        return failure.value.cause


def sample_report(delinquent: bool) -> BureauReport:
    """A one-account report: clean, or 90+ days late with a court case."""
    grid = "NNNNNNNNNNNNNNNNNNNN1234" if delinquent else "N" * 24
    account = BureauAccount(account_id="A1", lender="示例银行", lender_type="bank", account_type="D1",
                            opened_on=date(2023, 1, 15), closed_on=None, credit_amount=Decimal(20000),
                            balance=Decimal(8000), overdue_amount=Decimal(3000) if delinquent else Decimal(0),
                            status="2" if delinquent else "1", grid=grid)
    court = (CourtRecord("(2025)京0105民初1号", date(2025, 6, 1), "民间借贷纠纷", Decimal(5000), "执行中"),)
    return BureauReport(report_id="R", bureau="contract", as_of=date(2026, 1, 15), accounts=(account,),
                        inquiries=(), court_records=court if delinquent else (), blacklist=())


class ScoringContract(Contract):
    """Any ``score_application`` implementation: typed, deterministic, explained, and risk-ordered."""

    covers = ("score_application",)
    application = ApplicationFacts(product_code="CONTRACT", amount=Decimal("20000"), term_months=12,
                                   purpose="consumption", monthly_payment=Decimal("1833.60"))
    applicant = ApplicantProfile(age=35, monthly_income=Decimal("12000"), employment_years=Decimal(5),
                                 housing="own", occupation="skilled")

    def score(self, report: BureauReport | None) -> Any:
        return self.call("score_application", application=self.application, applicant=self.applicant,
                         bureau_report=report)

    def test_score_is_typed_and_explained(self) -> None:
        result = self.score(sample_report(delinquent=True))
        assert isinstance(result.score, int) and result.grade and result.model_version
        assert result.reason_codes, "a score below the maximum must say why"
        lost = [r.points_lost for r in result.reason_codes]
        assert lost == sorted(lost, reverse=True) and all(isinstance(p, Decimal) for p in lost)

    def test_same_inputs_same_score(self) -> None:
        assert self.score(sample_report(False)) == self.score(sample_report(False))

    def test_serious_delinquency_never_scores_above_a_clean_report(self) -> None:
        assert self.score(sample_report(True)).score <= self.score(sample_report(False)).score

    def test_scores_without_a_bureau_report(self) -> None:
        assert isinstance(self.score(None).score, int)


class BureauContract(Contract):
    """Any bureau: consent first, the same report for the same subject and day, idempotent reporting."""

    covers = ("bureau_query", "bureau_report_account")
    id_number = "110105199001011234"

    def query(self, consent: BureauConsent | None) -> Any:
        return self.call("bureau_query", query=BureauQuery(id_number=self.id_number, name="王小明", consent=consent))

    def consent(self) -> BureauConsent:
        return BureauConsent(granted_at=PLUGIN_TEST_TIME - timedelta(minutes=5), purpose="贷款审批",
                             channel="app", reference="CONSENT-1")

    def test_refuses_a_query_without_consent(self) -> None:
        error = self.refusal("bureau_query",
                             query=BureauQuery(id_number=self.id_number, name="王小明", consent=None))
        assert isinstance(error, ConsentRequiredError)

    def test_same_subject_same_day_same_report(self) -> None:
        assert self.query(self.consent()) == self.query(self.consent())

    def test_report_is_well_formed(self) -> None:
        report = self.query(self.consent())
        assert report.as_of <= PLUGIN_TEST_TIME.date()
        for account in report.accounts:
            assert len(account.grid) == 24 and set(account.grid) <= GRID_SYMBOLS
            assert account.status in {"1", "2", "3", "4"} and account.account_type in {"D1", "R1", "R4"}
            assert all(isinstance(v, Decimal) for v in (account.balance, account.overdue_amount))
        assert all(q.queried_on <= report.as_of for q in report.inquiries)

    def test_reporting_the_same_event_twice_is_one_event(self) -> None:
        event = BureauAccountEvent(kind="open", account_id="LOAN-1", id_number=self.id_number, name="王小明",
                                   report_date=date(2026, 1, 15), account_type="D1", credit_amount=Decimal(20000),
                                   balance=Decimal(20000), remaining_periods=12)
        first = self.call("bureau_report_account", event=event)
        assert first.accepted and first.reference
        assert self.call("bureau_report_account", event=event).reference == first.reference


class PaymentContract(Contract):
    """Any payment channel: idempotent by request id, queryable, refusing forged callbacks."""

    covers = ("payment_disburse", "payment_debit", "payment_debit_batch", "payment_query", "payment_refund",
              "payment_verify_callback")
    account = BankAccount(bank_code="ICBC", account_number="6222020200000000001", holder_name="王小明")

    def request(self, request_id: str, amount: str = "1000.00") -> PaymentRequest:
        return PaymentRequest(request_id=request_id, amount=Decimal(amount), account=self.account, loan_id=1)

    def test_disbursing_twice_with_one_request_id_pays_once(self) -> None:
        first = self.call("payment_disburse", request=self.request("D-1"))
        second = self.call("payment_disburse", request=self.request("D-1"))
        assert first.request_id == "D-1" and first.amount == Decimal("1000.00")
        assert second.channel_reference == first.channel_reference

    def test_debit_is_idempotent_and_queryable(self) -> None:
        first = self.call("payment_debit", request=self.request("C-1", "250.50"))
        assert self.call("payment_debit", request=self.request("C-1", "250.50")).channel_reference == \
            first.channel_reference
        assert self.call("payment_query", request_id="C-1").request_id == "C-1"

    def test_a_batch_answers_each_debit_in_order_and_sending_it_again_debits_nobody_twice(self) -> None:
        requests = (self.request("B-1", "100.00"), self.request("B-2", "200.00"))
        first = self.call("payment_debit_batch", batch=DebitBatch("BATCH-1", requests))
        assert [r.request_id for r in first] == ["B-1", "B-2"]
        assert all(r.amount <= q.amount for r, q in zip(first, requests, strict=True))
        again = self.call("payment_debit_batch", batch=DebitBatch("BATCH-2", requests[::-1]))
        assert [r.channel_reference for r in again] == [r.channel_reference for r in first[::-1]]
        assert self.call("payment_query", request_id="B-2").request_id == "B-2"

    def test_query_of_an_unknown_request_is_refused(self) -> None:
        self.refusal("payment_query", request_id="NEVER-SENT")

    def test_refund_of_an_unknown_debit_is_refused(self) -> None:
        self.refusal("payment_refund", request=RefundRequest(request_id="R-1", original_request_id="NEVER-SENT",
                                                             amount=Decimal("1.00")))

    def test_a_forged_callback_is_rejected(self) -> None:
        body = b'{"request_id": "D-1", "status": "succeeded"}'
        error = self.refusal("payment_verify_callback", headers={"X-Signature": "0" * 64}, body=body)
        assert isinstance(error, CallbackSignatureError)


class EsignContract(Contract):
    """Any e-signature plugin: hash of the bytes, two signatures with evidence, tamper detection."""

    covers = ("esign_render", "esign_sign", "esign_verify")
    template = "personal_loan"

    def contract_request(self) -> ContractRequest:
        schedule = [{"period": 1, "due_date": date(2026, 2, 15), "principal": Decimal("6000.00"),
                     "interest": Decimal("90.00"), "fee": Decimal(0), "total": Decimal("6090.00"),
                     "remaining_principal": Decimal("6000.00")},
                    {"period": 2, "due_date": date(2026, 3, 15), "principal": Decimal("6000.00"),
                     "interest": Decimal("45.00"), "fee": Decimal(0), "total": Decimal("6045.00"),
                     "remaining_principal": Decimal("0.00")}]
        return ContractRequest(
            contract_id="CONTRACT-1", template=self.template,
            terms={"amount": Decimal(12000), "annual_rate": Decimal("0.09"), "apr": Decimal("0.09"), "term": 2,
                   "method": "equal_principal", "start_date": date(2026, 1, 15), "schedule": schedule},
            borrower=Signer(role="borrower", name="王小明", identifier="110105199001011234"),
            lender=Signer(role="lender", name="示例小额贷款有限公司", identifier="91110000100000000X"))

    def signed(self) -> SignedDocument:
        request = self.contract_request()
        document = self.call("esign_render", request=request)
        assert document.sha256 == hashlib.sha256(document.content).hexdigest()
        signed = SignedDocument(document=document, signatures=())
        for signer in (request.borrower, request.lender):
            signed = self.call("esign_sign", document=signed, signer=signer, channel="app")
        return signed

    def test_both_parties_sign_with_evidence_and_it_verifies(self) -> None:
        signed = self.signed()
        assert [e.signer.role for e in signed.signatures] == ["borrower", "lender"]
        assert all(e.sha256 == signed.document.sha256 and e.signature and e.channel for e in signed.signatures)
        assert self.call("esign_verify", document=signed).valid

    def test_changing_one_byte_fails_verification(self) -> None:
        signed = self.signed()
        content = bytearray(signed.document.content)
        content[len(content) // 2] ^= 0x01
        forged = SignedDocument(document=type(signed.document)(
            contract_id=signed.document.contract_id, content=bytes(content), media_type=signed.document.media_type,
            sha256=signed.document.sha256), signatures=signed.signatures)
        result = self.call("esign_verify", document=forged)
        assert not result.valid and result.problems


class ReportingContract(Contract):
    """Any reporting plugin: unique report codes, files for each, unknown types refused."""

    covers = ("report_types", "report_generate")
    period = (date(2026, 1, 1), date(2026, 1, 31))

    def test_every_listed_report_generates_files(self) -> None:
        types = self.call("report_types")
        assert types and len({t.code for t in types}) == len(types)
        for report_type in types:
            files = self.call("report_generate", report_type=report_type.code, period_start=self.period[0],
                              period_end=self.period[1])
            assert files and len({f.name for f in files}) == len(files)
            assert all(isinstance(f.content, bytes) and f.media_type for f in files)

    def test_an_unknown_report_type_is_refused(self) -> None:
        self.refusal("report_generate", report_type="no-such-report", period_start=self.period[0],
                     period_end=self.period[1])


class NotificationsContract(Contract):
    """Any notifications plugin: fully rendered, sent once per request id, missing variables refused."""

    covers = ("notification_send",)
    template = "repayment_due"
    variables: ClassVar[dict[str, str]] = {"name": "王小明", "installment": "1", "due_amount": "1,100.16",
                                           "due_date": "2026-02-15"}

    def message(self, request_id: str, variables: dict[str, str] | None = None, template: str | None = None
                ) -> NotificationRequest:
        return NotificationRequest(request_id=request_id, channel="sms", recipient="13812345678",
                                   template=template or self.template,
                                   variables=self.variables if variables is None else variables)

    def test_sends_a_fully_rendered_message_once_per_request_id(self) -> None:
        first = self.call("notification_send", message=self.message("N-1"))
        assert first.rendered and "${" not in first.rendered and "王小明" in first.rendered
        assert self.call("notification_send", message=self.message("N-1")).provider_reference == \
            first.provider_reference

    def test_a_missing_variable_is_refused_by_name(self) -> None:
        variables = {k: v for k, v in self.variables.items() if k != "due_amount"}
        error = self.refusal("notification_send", message=self.message("N-2", variables))
        assert isinstance(error, TemplateVariableMissingError) and "due_amount" in str(error)

    def test_an_unknown_template_is_refused(self) -> None:
        error = self.refusal("notification_send", message=self.message("N-3", template="no-such-template"))
        assert isinstance(error, TemplateNotFoundError)


class IdentityContract(Contract):
    """Any identity-verification provider: typed answers naming their check, the same question answered the
    same, and no face match without the images."""

    covers = ("identity_three_element", "identity_bank_card", "identity_liveness")
    query = IdentityQuery(name="王小明", id_number="110101199001010053", phone="13812345678", bank_code="CMB",
                          card_number="6225880212345678", id_photo_sha256=hashlib.sha256(b"id").hexdigest(),
                          face_sha256=hashlib.sha256(b"face").hexdigest())
    checks: ClassVar[dict[str, str]] = {"identity_three_element": "three_element",
                                        "identity_bank_card": "bank_card", "identity_liveness": "liveness"}

    def test_each_check_answers_typed_and_names_itself(self) -> None:
        for hook, check in self.checks.items():
            result = self.call(hook, query=self.query)
            assert isinstance(result, IdentityResult) and result.check == check
            assert result.outcome in ("match", "mismatch", "unverifiable") and result.reference and result.provider
            if result.score is not None:
                assert isinstance(result.score, Decimal) and Decimal(0) <= result.score <= Decimal(1)

    def test_the_same_question_gets_the_same_answer(self) -> None:
        for hook in self.checks:
            assert self.call(hook, query=self.query) == self.call(hook, query=self.query)

    def test_no_face_match_without_the_images(self) -> None:
        for missing in ({"face_sha256": None}, {"id_photo_sha256": None}):
            query = IdentityQuery(**{**{f: getattr(self.query, f) for f in self.query.__slots__}, **missing})
            assert self.call("identity_liveness", query=query).outcome == "unverifiable"


class LifecycleContract(Contract):
    """Any lifecycle listener: hears application and loan events and answers nothing."""

    covers = ("lifecycle_event",)

    def test_hears_application_and_loan_events(self) -> None:
        for entity in ("application", "loan"):
            event = LifecycleEvent(entity=entity, entity_id=7, from_state="submitted", to_state="approved",
                                   at=PLUGIN_TEST_TIME, actor="system", reason="contract test")
            answers = self.manager.broadcast("lifecycle_event", session=self.session, event=event)
            assert self.plugin_name in answers and answers[self.plugin_name] is None


class ConfigurationContract(Contract):
    """Any ``config_problems`` implementation: the class's ``plugin_config`` (a production one) passes, and
    ``unfit_config`` (settings the plugin must refuse, such as a missing secret) is reported, each problem
    a sentence under the plugin's name."""

    covers = ("config_problems",)
    unfit_config: ClassVar[dict[str, Any]] = {}

    def test_its_production_settings_pass(self) -> None:
        assert self.manager.implementers("config_problems").count(self.plugin_name) == 1
        assert [p for p in self.manager.config_problems() if p.startswith(f"{self.plugin_name}:")] == []

    def test_unfit_settings_are_reported_under_its_name(self) -> None:
        manager = build_manager({self.plugin_name: dict(self.unfit_config)},
                                extra=(self.plugin_module,) if self.plugin_module else ())
        problems = [p for p in manager.config_problems() if p.startswith(f"{self.plugin_name}: ")]
        assert problems and all(len(p) > len(self.plugin_name) + 2 for p in problems)


class CommandsContract(Contract):
    """Any ``register_commands``: click commands under names no built-in command has, each with its help."""

    covers = ("register_commands",)

    def test_adds_commands_under_names_of_its_own(self) -> None:
        import click
        from click.testing import CliRunner

        from loanfactory.cli import COMMANDS

        group = click.Group(self.plugin_name)
        self.manager.setup_call(self.plugin_name, "register_commands", cli=group)
        assert group.commands, "register_commands added no command"
        assert not set(group.commands) & set(COMMANDS), "a plugin command takes a built-in command's name"
        for name, command in group.commands.items():
            shown = CliRunner().invoke(command, ["--help"], prog_name=f"loanfactory {name}")
            assert shown.exit_code == 0 and "Usage:" in shown.output, shown.output


class SchemaContract(Contract):
    """Any ``plugin_schema``: modules defining tables, and a branch of revisions of its own that makes them."""

    covers = ("plugin_schema",)

    def test_its_own_branch_of_revisions_makes_the_tables_its_models_define(self, tmp_path: Path) -> None:
        from loanfactory.migrate import schema_problems

        schema = self.manager.setup_call(self.plugin_name, "plugin_schema")
        assert schema_problems(self.plugin_name, schema, f"sqlite:///{tmp_path}/schema.sqlite3") == []


CONTRACTS: tuple[type[Contract], ...] = (ScoringContract, BureauContract, IdentityContract, PaymentContract,
                                         EsignContract, ReportingContract, NotificationsContract, LifecycleContract,
                                         ConfigurationContract,
                                         CommandsContract, SchemaContract)
