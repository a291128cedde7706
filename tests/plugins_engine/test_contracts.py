"""The contract kit run against every built-in plugin and the example package (installed by ./dev)."""

from __future__ import annotations

from typing import Any, ClassVar

from plugins.testing import (
    BureauContract,
    EsignContract,
    LifecycleContract,
    NotificationsContract,
    PaymentContract,
    ScoringContract,
)


class TestScorecardIsAScoringPlugin(ScoringContract):
    plugin_name = "scorecard"


class TestSandboxBureauIsABureau(BureauContract):
    plugin_name = "sandbox_bureau"


class TestNotificationsIsANotificationsPlugin(NotificationsContract):
    plugin_name = "notifications"


class TestLocalEsignIsAnEsignPlugin(EsignContract):
    plugin_name = "local_esign"


class TestSandboxBankIsAPaymentChannel(PaymentContract):
    plugin_name = "sandbox_bank"


class TestExamplePackageIsAScoringPlugin(ScoringContract):
    plugin_name = "example_rules"


class TestExamplePackageHearsLifecycleEvents(LifecycleContract):
    plugin_name = "example_rules"
    plugin_config: ClassVar[dict[str, Any]] = {"webhook_secret": "contract-secret"}
