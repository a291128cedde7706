"""The contract kit run against the engine's built-ins and the example package (installed by ./dev).

local_esign and sandbox_bank run it in tests/plugins_builtin/test_contracts.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

from plugins.testing import (
    BureauContract,
    CommandsContract,
    IdentityContract,
    LifecycleContract,
    NotificationsContract,
    SchemaContract,
    ScoringContract,
)


class TestScorecardIsAScoringPlugin(ScoringContract):
    plugin_name = "scorecard"


class TestSandboxBureauIsABureau(BureauContract):
    plugin_name = "sandbox_bureau"


class TestSandboxIdentityIsAnIdentityProvider(IdentityContract):
    plugin_name = "sandbox_identity"


class TestNotificationsIsANotificationsPlugin(NotificationsContract):
    plugin_name = "notifications"


class TestExamplePackageIsAScoringPlugin(ScoringContract):
    plugin_name = "example_rules"


class TestExamplePackageHearsLifecycleEvents(LifecycleContract):
    plugin_name = "example_rules"
    plugin_config: ClassVar[dict[str, Any]] = {"webhook_secret": "contract-secret"}


class TestSandboxBureauBringsItsTables(SchemaContract):
    plugin_name = "sandbox_bureau"


class TestNotificationsBringsItsTables(SchemaContract):
    plugin_name = "notifications"


class TestExamplePackageAddsItsCommands(CommandsContract):
    plugin_name = "example_rules"


class TestExamplePackageBringsItsTables(SchemaContract):
    plugin_name = "example_rules"
