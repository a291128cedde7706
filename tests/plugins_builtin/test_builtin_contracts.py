"""The plugin kit's contract tests (plugins.testing) run against the reference plugins."""

from __future__ import annotations

from typing import Any, ClassVar

from plugins.sandbox_bank.callbacks import DEV_SECRET
from plugins.testing import (
    CommandsContract,
    ConfigurationContract,
    EsignContract,
    PaymentContract,
    ReportingContract,
    SchemaContract,
)


class TestSandboxBankIsAPaymentChannel(PaymentContract):
    plugin_name = "sandbox_bank"
    plugin_module = "plugins.sandbox_bank"


class TestLocalEsignIsAnEsignPlugin(EsignContract):
    plugin_name = "local_esign"
    plugin_module = "plugins.local_esign"


class TestReportsIsAReportingPlugin(ReportingContract):
    plugin_name = "reports"
    plugin_module = "plugins.reports"


class TestSandboxBankRefusesADevelopmentCallbackSecret(ConfigurationContract):
    plugin_name = "sandbox_bank"
    plugin_module = "plugins.sandbox_bank"
    plugin_config: ClassVar[dict[str, Any]] = {"callback_secret": "a-production-secret-of-more-than-32-characters"}
    unfit_config: ClassVar[dict[str, Any]] = {"callback_secret": DEV_SECRET}


class TestReportsAddsItsCommands(CommandsContract):
    plugin_name = "reports"


class TestSandboxBankAddsItsCommands(CommandsContract):
    plugin_name = "sandbox_bank"


class TestSandboxBankBringsItsTables(SchemaContract):
    plugin_name = "sandbox_bank"


class TestLocalEsignBringsItsTables(SchemaContract):
    plugin_name = "local_esign"
