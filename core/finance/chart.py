"""The lender's chart of accounts (会计科目表) as versioned data, and its validation.

The kernel posts to its own small, fixed set of accounts (:data:`core.ledger.accounts.CHART`); finance
keeps its general ledger in its own chart, which changes over time. A :class:`Chart` is one version of
that chart: every account with its code, Chinese and English names, type (asset, liability, equity,
income, expense, or ``memo`` for off-balance 表外 accounts), parent and normal side, and
``kernel_accounts``, the GL code each kernel account maps to when the product of a line does not name
one (lines of no loan, roles a product leaves out). A product's ``gl_accounts`` name codes of this chart
(:mod:`core.finance.mapping`).

:func:`chart_problems` returns every fault of a chart document with its JSON pointer (as a product's
validation does); :func:`parse_chart` returns the :class:`Chart` or raises :class:`InvalidChartError`.
The shipped chart is ``product_configs/chart/chart_of_accounts.json`` (:func:`shipped_chart`); versions loaded
later live in the database (:mod:`core.finance.charts`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import LoanFactoryError
from core.ledger.accounts import CASH_CLEARING_PREFIX
from core.ledger.accounts import CHART as KERNEL_CHART
from core.products.problems import Problem, pointer

SHIPPED_CHART = Path(__file__).resolve().parents[2] / "product_configs" / "chart" / "chart_of_accounts.json"

#: the chart's account types; ``memo`` accounts are off-balance (表外) and appear in no statement
TYPES = ("asset", "liability", "equity", "income", "expense", "memo")
SIDES = ("debit", "credit")
_CODE = re.compile(r"^[0-9]{4,12}$")
_REQUIRED = ("code", "name_zh", "name_en", "type", "normal_side")

#: the kernel accounts every chart maps (cash clearing by its prefix: every channel's account maps alike)
KERNEL_ACCOUNTS = (CASH_CLEARING_PREFIX, *KERNEL_CHART)


def kernel_type(code: str) -> str:
    """The chart type a kernel account must map to (cash clearing is an asset)."""
    return "asset" if code == CASH_CLEARING_PREFIX else KERNEL_CHART[code].kind.value


class InvalidChartError(LoanFactoryError):
    """A chart of accounts document has problems; ``problems`` lists every one with its JSON pointer."""

    def __init__(self, problems: list[Problem]) -> None:
        summary = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"chart: {len(problems)} problem(s): {summary}{more}", field="chart")
        self.problems = problems


@dataclass(frozen=True)
class GlAccount:
    """One account of the lender's chart."""

    code: str
    name_zh: str
    name_en: str
    type: str
    normal_side: str
    parent: str | None

    @property
    def on_balance_sheet(self) -> bool:
        return self.type in ("asset", "liability", "equity")


@dataclass(frozen=True)
class Chart:
    """One version of the chart: its accounts by code and the GL code of each kernel account.

    ``in`` and iteration run over the codes, so a chart serves as the ``chart`` argument of
    :func:`core.products.validate.check_product` (every mapped code must exist in it).
    """

    version: int
    effective_from: date
    source: str
    accounts: Mapping[str, GlAccount]
    kernel_accounts: Mapping[str, str]

    def __contains__(self, code: object) -> bool:
        return code in self.accounts

    def __iter__(self) -> Iterator[str]:
        return iter(self.accounts)

    def __len__(self) -> int:
        return len(self.accounts)

    def account(self, code: str) -> GlAccount:
        """The account with ``code`` (a ``KeyError`` names a code outside the chart)."""
        return self.accounts[code]

    def default_for(self, kernel_account: str) -> str:
        """The GL code a kernel account maps to when no product names one (``1002.<channel>`` as ``1002``)."""
        prefix = kernel_account.partition(".")[0]
        return self.kernel_accounts[kernel_account if kernel_account in self.kernel_accounts else prefix]

    def to_json(self) -> dict[str, Any]:
        """The document this chart was parsed from (canonical form)."""
        return {"version": self.version, "effective_from": self.effective_from.isoformat(), "source": self.source,
                "accounts": [{"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "type": a.type,
                              "normal_side": a.normal_side, "parent": a.parent} for a in self.accounts.values()],
                "kernel_accounts": dict(self.kernel_accounts)}


def _problem(at: str, code: str, zh: str, en: str) -> Problem:
    return Problem(at, code, zh, en)


def _header_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        yield _problem("/version", "chart.version", "版本号须为正整数", "version must be a positive integer")
    try:
        date.fromisoformat(str(document.get("effective_from")))
    except ValueError:
        yield _problem("/effective_from", "chart.effective_from", "生效日期须为 YYYY-MM-DD",
                       "effective_from must be a date (YYYY-MM-DD)")
    if not isinstance(document.get("source"), str) or not document["source"].strip():
        yield _problem("/source", "chart.source", "须注明科目表依据", "source must name where the chart comes from")


def _account_problems(accounts: Any) -> Iterator[Problem]:
    if not isinstance(accounts, list) or not accounts:
        yield _problem("/accounts", "chart.accounts", "科目列表不能为空", "accounts must be a non-empty list")
        return
    seen: dict[str, int] = {}
    for i, item in enumerate(accounts):
        if not isinstance(item, Mapping):
            yield _problem(pointer("accounts", i), "chart.account", "科目须为对象", "an account must be an object")
            continue
        for name in _REQUIRED:
            if not isinstance(item.get(name), str) or not item[name].strip():
                yield _problem(pointer("accounts", i, name), "chart.required", f"缺少 {name}", f"{name} is required")
        code = item.get("code")
        if isinstance(code, str) and not _CODE.match(code):
            yield _problem(pointer("accounts", i, "code"), "chart.code", f"科目代码 {code} 须为 4–12 位数字",
                           f"code {code!r} must be 4-12 digits")
        if isinstance(code, str) and code in seen:
            yield _problem(pointer("accounts", i, "code"), "chart.duplicate", f"科目代码 {code} 重复",
                           f"code {code} appears twice (first at /accounts/{seen[code]})")
        elif isinstance(code, str):
            seen[code] = i
        if isinstance(item.get("type"), str) and item["type"] not in TYPES:
            yield _problem(pointer("accounts", i, "type"), "chart.type", f"科目类型 {item['type']} 未知",
                           f"type must be one of {', '.join(TYPES)}")
        if isinstance(item.get("normal_side"), str) and item["normal_side"] not in SIDES:
            yield _problem(pointer("accounts", i, "normal_side"), "chart.normal_side", "余额方向须为 debit 或 credit",
                           "normal_side must be debit or credit")
    yield from _parent_problems(accounts, seen)


def _parent_problems(accounts: list[Any], index: dict[str, int]) -> Iterator[Problem]:
    parents = {item["code"]: item.get("parent") for item in accounts
               if isinstance(item, Mapping) and isinstance(item.get("code"), str)}
    for code, parent in parents.items():
        at = pointer("accounts", index[code], "parent")
        if parent is None:
            continue
        if parent not in parents:
            yield _problem(at, "chart.unknown_parent", f"上级科目 {parent} 不在科目表中",
                           f"parent {parent!r} is not in the chart")
            continue
        if accounts[index[parent]].get("type") != accounts[index[code]].get("type"):
            yield _problem(at, "chart.parent_type", f"上级科目 {parent} 的类型与本科目不同",
                           f"parent {parent} is of another type than {code}")
        seen, walk = {code}, parent
        while walk is not None and walk in parents:
            if walk in seen:
                yield _problem(at, "chart.parent_cycle", f"科目 {code} 的上级关系成环",
                               f"the parents of {code} form a cycle")
                break
            seen.add(walk)
            walk = parents[walk]


def _kernel_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    mapping = document.get("kernel_accounts")
    if not isinstance(mapping, Mapping):
        yield _problem("/kernel_accounts", "chart.kernel_accounts", "须配置系统科目映射",
                       "kernel_accounts must map every kernel account to a GL code")
        return
    accounts = {item["code"]: item for item in document.get("accounts") or []
                if isinstance(item, Mapping) and isinstance(item.get("code"), str)}
    children = {item.get("parent") for item in accounts.values()}
    for kernel in KERNEL_ACCOUNTS:
        at = pointer("kernel_accounts", kernel)
        code = mapping.get(kernel)
        if code is None:
            yield _problem(at, "chart.unmapped_kernel_account", f"系统科目 {kernel} 未映射",
                           f"kernel account {kernel} is not mapped to a GL code")
        elif code not in accounts:
            yield _problem(at, "gl.unknown_account", f"科目代码 {code} 不在科目表中",
                           f"account {code} (kernel {kernel}) is not in the chart of accounts")
        elif code in children:
            yield _problem(at, "chart.not_a_leaf", f"科目 {code} 有下级科目，不能记账",
                           f"account {code} has sub-accounts; map {kernel} to one of them")
        elif accounts[code].get("type") != kernel_type(kernel):
            yield _problem(at, "chart.kernel_type", f"科目 {code} 的类型与系统科目 {kernel} 不符",
                           f"account {code} is {accounts[code].get('type')}, kernel {kernel} is "
                           f"{kernel_type(kernel)}")
    for kernel in mapping:
        if kernel not in KERNEL_ACCOUNTS:
            yield _problem(pointer("kernel_accounts", kernel), "chart.unknown_kernel_account",
                           f"系统科目 {kernel} 不存在", f"{kernel} is not a kernel account")


def chart_problems(document: object) -> list[Problem]:
    """Every problem of a chart document, each with its JSON pointer (empty when it is sound)."""
    if not isinstance(document, Mapping):
        return [_problem("", "chart.document", "科目表须为 JSON 对象", "a chart must be a JSON object")]
    problems = [*_header_problems(document), *_account_problems(document.get("accounts")),
                *_kernel_problems(document)]
    return sorted(problems)


def parse_chart(document: object) -> Chart:
    """The :class:`Chart` of a sound document.

    Raises:
        InvalidChartError: the document has problems (all of them, with their pointers).
    """
    problems = chart_problems(document)
    if problems:
        raise InvalidChartError(problems)
    assert isinstance(document, Mapping)
    accounts = {item["code"]: GlAccount(item["code"], item["name_zh"], item["name_en"], item["type"],
                                        item["normal_side"], item.get("parent"))
                for item in document["accounts"]}
    return Chart(document["version"], date.fromisoformat(document["effective_from"]), document["source"], accounts,
                 dict(document["kernel_accounts"]))


def read_chart(path: Path) -> Chart:
    """Parse the chart in the JSON file ``path``."""
    return parse_chart(json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal))


@lru_cache(maxsize=1)
def shipped_chart() -> Chart:
    """The chart shipped in ``product_configs/chart/chart_of_accounts.json``: in force until a version is loaded."""
    return read_chart(SHIPPED_CHART)
