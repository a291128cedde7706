"""The meta-test: every hook spec is documented (docstring contract and docs/plugins.md) and tested (a
contract in the kit that covers it, run against at least one real plugin)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core.plugins import hookspecs
from plugins.testing import CONTRACTS

ROOT = Path(__file__).resolve().parents[2]
SPECS = {name: func for name, func in vars(hookspecs).items()
         if callable(func) and hasattr(func, hookspecs.PROJECT + "_spec")}
SECTIONS = ("Args:", "Returns:", "firstresult:", "Raises:")


def test_the_spec_module_declares_the_hooks_of_every_family_and_nothing_else():
    families = [hook for hooks in hookspecs.HOOK_FAMILIES.values() for hook in hooks]
    assert sorted(families) == sorted(SPECS) and len(families) == len(set(families))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_spec_docstring_is_a_contract(name):
    func = SPECS[name]
    doc = inspect.getdoc(func) or ""
    assert all(section in doc for section in SECTIONS), f"{name}: the docstring needs {SECTIONS}"
    args = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
    for parameter in inspect.signature(func).parameters:
        assert re.search(rf"^\s*{parameter}:", args, re.M), f"{name}: argument {parameter!r} is not documented"
    firstresult = getattr(func, hookspecs.PROJECT + "_spec").get("firstresult", False)
    assert ("firstresult: yes" in doc) == firstresult, f"{name}: the docstring misstates firstresult"
    assert inspect.signature(func).return_annotation != inspect.Signature.empty


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_hook_is_in_the_authors_guide(name):
    assert f"`{name}(" in (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_hook_has_a_contract_that_runs_against_a_real_plugin(name):
    contracts = [c for c in CONTRACTS if name in c.covers]
    assert contracts, f"{name}: no contract in plugins.testing covers it"
    used = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        used |= set(re.findall(r"^class Test\w*\((\w+Contract)\):", path.read_text(encoding="utf-8"), re.M))
    assert {c.__name__ for c in contracts} & used, f"{name}: no test runs {contracts[0].__name__} on a plugin"
