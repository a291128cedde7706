"""Semantic checks of a product's own numbers: the rules a schema cannot say.

Each check takes the document (already schema-valid in the sections it reads) and returns
:class:`~core.products.problems.Problem` objects, never raising: ranges whose default lies outside them
or off their step, terms that do not fit the frequency or a method (a term in days is for bullet loans;
先息后本 needs at least two periods; grace periods must leave principal to repay), overlapping risk
bands, fee percentages over 100%, fees the contract cannot charge as printed (a fee on the balance with
every installment), penalty settings that do not match their mode, prepayment that can never happen,
collateral and credit-limit settings that contradict the amount range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from core.errors import InvalidArgumentError
from core.products.debit_checks import check_debit
from core.products.problems import Problem, pointer
from core.products.product import Product
from core.schedule import Frequency, Method

Document = Mapping[str, Any]
Check = Callable[[Document], Iterator[Problem]]

REFERENCE_START = date(2026, 1, 15)

_UNIT_FREQUENCIES = {
    "day": (Frequency.DAILY,),
    "week": (Frequency.WEEKLY, Frequency.BIWEEKLY),
    "month": (Frequency.MONTHLY, Frequency.QUARTERLY),
}


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def check_range(spec: Mapping[str, Any], *at: str | int, what: str, what_zh: str) -> Iterator[Problem]:
    """min <= default <= max and default on the step grid, for a min/max/default(/step) object."""
    low, high, default = _dec(spec["min"]), _dec(spec["max"]), _dec(spec["default"])
    if low > high:
        yield Problem(pointer(*at, "max"), "range.min_above_max", f"{what_zh}最大值 {high} 小于最小值 {low}",
                      f"{what}: max {high} is below min {low}")
        return
    if not low <= default <= high:
        yield Problem(pointer(*at, "default"), "range.default_out_of_range",
                      f"{what_zh}默认值 {default} 不在 [{low}, {high}] 内",
                      f"{what}: default {default} is outside [{low}, {high}]")
        return
    step = spec.get("step")
    if step is not None and _dec(step) == 0:
        yield Problem(pointer(*at, "step"), "range.step_zero", f"{what_zh}步长不得为 0", f"{what}: step must not be 0")
    elif step is not None and (default - low) % _dec(step):
        yield Problem(pointer(*at, "default"), "range.default_off_step",
                      f"{what_zh}默认值 {default} 不能由最小值 {low} 按步长 {step} 到达",
                      f"{what}: default {default} is not min {low} plus a whole number of steps of {step}")


def check_money_places(document: Document) -> Iterator[Problem]:
    """Amounts given as JSON numbers must have at most two decimals (strings are held by the schema)."""
    places: list[tuple[str | int, ...]] = [("amount", key) for key in ("min", "max", "step", "default")]
    places.append(("credit_limits", "max_outstanding_per_customer"))
    places += [("fees", i, "value") for i, fee in enumerate(document["fees"]) if fee["basis"] == "fixed"]
    for parts in places:
        value: Any = document
        for part in parts:
            value = value[part]
        if isinstance(value, Decimal) and value.as_tuple().exponent < -2:  # type: ignore[operator]
            yield Problem(pointer(*parts), "money.fen", f"金额 {value} 超过两位小数",
                          f"the amount {value} has more than two decimals (fen)")


def check_amount(document: Document) -> Iterator[Problem]:
    yield from check_range(document["amount"], "amount", what="amount", what_zh="金额")


def check_term(document: Document) -> Iterator[Problem]:
    spec = document["term"]
    has_values, has_range = "values" in spec, any(k in spec for k in ("min", "max", "step"))
    if has_values == has_range or (has_range and not {"min", "max"} <= spec.keys()):
        yield Problem(pointer("term"), "term.values_or_range", "期限须列出可选值，或给出最小值和最大值（二选一）",
                      "term: give either values, or min and max (with an optional step), not both")
        return
    if has_range:
        yield from check_range({"step": 1, **spec}, "term", what="term", what_zh="期限")
    elif spec["default"] not in spec["values"]:
        yield Problem(pointer("term", "default"), "range.default_out_of_range",
                      f"默认期限 {spec['default']} 不在可选期限中",
                      f"term: default {spec['default']} is not an allowed value")


def check_rate(document: Document) -> Iterator[Problem]:
    yield from check_range(document["rate"]["annual"], "rate", "annual", what="annual rate", what_zh="年利率")
    annual = document["rate"]["annual"]
    low, high = _dec(annual["min"]), _dec(annual["max"])
    bands = document["rate"].get("risk_bands", [])
    for i, band in enumerate(bands):
        if band["score_min"] > band["score_max"]:
            yield Problem(pointer("rate", "risk_bands", i, "score_max"), "range.min_above_max",
                          "评分上限小于下限", f"band {i}: score_max is below score_min")
        rate = _dec(band["annual_rate"])
        if not low <= rate <= high:
            yield Problem(pointer("rate", "risk_bands", i, "annual_rate"), "rate.band_out_of_range",
                          f"分档利率 {rate} 不在年利率区间 [{low}, {high}] 内",
                          f"band {i}: rate {rate} is outside the annual range [{low}, {high}]")
        for j, other in enumerate(bands[:i]):
            if band["score_min"] <= other["score_max"] and other["score_min"] <= band["score_max"]:
                yield Problem(pointer("rate", "risk_bands", i), "rate.band_overlap",
                              f"评分区间与第 {j} 档重叠", f"band {i}: its scores overlap band {j}")


def check_repayment(document: Document) -> Iterator[Problem]:
    repayment, unit = document["repayment"], document["term"]["unit"]
    methods = repayment["methods"]
    if "default_method" in repayment and repayment["default_method"] not in methods:
        yield Problem(pointer("repayment", "default_method"), "repayment.default_method_not_allowed",
                      "默认还款方式不在可选还款方式中", "default_method is not one of the allowed methods")
    frequency = Frequency(repayment["frequency"])
    if frequency not in _UNIT_FREQUENCIES[unit]:
        allowed = ", ".join(f.value for f in _UNIT_FREQUENCIES[unit])
        yield Problem(pointer("repayment", "frequency"), "term.unit_frequency",
                      f"期限单位 {unit} 须使用还款频率 {allowed}",
                      f"a term in {unit}s needs the frequency {allowed}, not {frequency.value}")
        return
    if repayment["due_day_rule"] == "fixed_day":
        if "repayment_day" not in repayment:
            yield Problem(pointer("repayment", "repayment_day"), "repayment.repayment_day_missing",
                          "固定还款日规则须设置还款日", "due_day_rule fixed_day needs a repayment_day")
        if frequency is Frequency.DAILY:
            yield Problem(pointer("repayment", "due_day_rule"), "repayment.fixed_day_frequency",
                          "按天计的期限不能使用固定还款日", "a term in days cannot have a fixed repayment day")
        elif frequency.days and repayment.get("repayment_day", 1) > 7:
            yield Problem(pointer("repayment", "repayment_day"), "repayment.repayment_day_out_of_range",
                          "按周还款的固定还款日须为星期几（1–7）",
                          "with a weekly frequency the repayment day is an ISO weekday from 1 to 7")
    if unit == "day":
        for i, method in enumerate(methods):
            if method != Method.BULLET.value:
                yield Problem(pointer("repayment", "methods", i), "term.method_unit",
                              "按天计的期限仅适用于到期还本付息",
                              f"a term in days is for the bullet method only, not {method}")


def check_terms_per_method(document: Document) -> Iterator[Problem]:
    """Build a schedule for each method at each allowed term; report the first refusal per method."""
    product = Product(document)
    try:
        terms = product.terms()
    except InvalidArgumentError as error:
        yield Problem(pointer("term"), "term.too_many", "可选期限过多", str(error))
        return
    grace = int(document["repayment"].get("grace_periods", 0))
    for i, method in enumerate(product.methods):
        for term in terms:
            problem = _term_problem(product, method, term, grace, i)
            if problem is not None:
                yield problem
                break


def _term_problem(product: Product, method: Method, term: int, grace: int, index: int) -> Problem | None:
    at = pointer("term", "values") if "values" in product.document["term"] else pointer("term", "min")
    try:
        periods = product.periods(term)
    except InvalidArgumentError as error:
        return Problem(at, "term.not_whole_periods", f"期限 {term} 不是整数个还款周期", str(error))
    if method is Method.INTEREST_ONLY and periods < 2:
        return Problem(at, "term.too_short_for_method", f"先息后本至少需要 2 期，期限 {term} 只有 {periods} 期",
                       f"interest_only needs at least 2 periods; a term of {term} has {periods}")
    if method in (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL) and grace >= periods:
        return Problem(pointer("repayment", "grace_periods"), "term.grace_too_long",
                       f"宽限期 {grace} 期不少于期限 {term} 的 {periods} 期",
                       f"{grace} grace periods leave no principal periods in a term of {term} ({periods} periods)")
    try:
        product.loan_terms(product.amount.max, term, method, REFERENCE_START, product.rate.max)
    except InvalidArgumentError as error:
        return Problem(pointer("repayment", "methods", index), "term.invalid_for_method",
                       f"还款方式 {method.value} 在期限 {term} 下无法生成还款计划：{error}",
                       f"{method.value} cannot be scheduled over a term of {term}: {error}")
    return None


def check_fees(document: Document) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, fee in enumerate(document["fees"]):
        if fee["code"] in seen:
            yield Problem(pointer("fees", i, "code"), "fee.duplicate_code", f"费用代码 {fee['code']} 重复",
                          f"fee code {fee['code']!r} is already used by fee {seen[fee['code']]}")
        seen.setdefault(fee["code"], i)
        if fee["basis"] != "fixed" and _dec(fee["value"]) > 1:
            yield Problem(pointer("fees", i, "value"), "fee.percent_over_one", "百分比费用不得超过 1（100%）",
                          f"a {fee['basis']} fee is a fraction of at most 1, got {fee['value']}")
        partial = document["prepayment"].get("partial_allowed", True)
        if fee["when"] == "on_prepayment" and fee["basis"] != "percent_of_outstanding" and partial:
            yield Problem(pointer("fees", i, "basis"), "fee.prepayment_fee_per_partial",
                          "允许部分提前还款时，提前还款费用须按提前还款本金的比例收取，否则借款人每次小额还款都要支付该费用",
                          "with partial prepayment allowed the prepayment fee must be a percentage of the principal "
                          "prepaid; a fixed or principal-based fee would be paid again on every small prepayment")
        if fee["when"] == "on_prepayment" and not document["prepayment"]["allowed"]:
            yield Problem(pointer("fees", i, "when"), "fee.prepayment_not_allowed",
                          "产品不允许提前还款，却设置了提前还款费用",
                          "a prepayment fee on a product that does not allow prepayment")
        if fee["when"] == "per_installment" and fee["basis"] == "percent_of_outstanding":
            yield Problem(pointer("fees", i, "basis"), "fee.installment_fee_on_balance",
                          "每期费用须为固定金额或按原始本金的比例收取：合同按期收取的是固定的每期费用，无法按剩余本金逐期计收",
                          "a fee with every installment must be fixed or a percentage of the original principal: the "
                          "contract books one fixed fee per installment and cannot charge one on the balance")


def check_penalty(document: Document) -> Iterator[Problem]:
    penalty = document["penalty"]
    mode = penalty["mode"]
    other = "daily_rate" if mode == "multiplier" else "multiplier"
    if mode not in penalty:
        yield Problem(pointer("penalty", mode), f"penalty.{mode}_missing", f"罚息方式 {mode} 须设置 {mode}",
                      f"penalty mode {mode} needs {mode}")
    elif mode == "multiplier" and not 1 <= _dec(penalty["multiplier"]) <= 2:
        yield Problem(pointer("penalty", "multiplier"), "penalty.multiplier_out_of_range",
                      "罚息上浮系数须在 1 到 2 之间",
                      f"the penalty multiplier must be 1 to 2, got {penalty['multiplier']}")
    if other in penalty:
        yield Problem(pointer("penalty", other), "penalty.unused_field", f"罚息方式为 {mode}，{other} 不应设置",
                      f"{other} is not used with penalty mode {mode}")


def check_prepayment(document: Document) -> Iterator[Problem]:
    prepayment = document["prepayment"]
    if not prepayment["allowed"] or "earliest_period" not in prepayment:
        return
    product = Product(document)
    try:
        terms = product.terms()
        # a bullet loan is prepaid at a point of its term (in term units), others after an installment
        longest = max(t if method is Method.BULLET else product.periods(t)
                      for t in terms for method in product.methods)
    except InvalidArgumentError:
        return
    earliest = int(prepayment["earliest_period"])
    if earliest >= longest:
        yield Problem(pointer("prepayment", "earliest_period"), "prepayment.never_possible",
                      f"最早提前还款期次 {earliest} 不早于最长期限的最后一期 {longest}",
                      f"earliest_period {earliest} is not before the end ({longest}) of the longest term")


def check_collateral(document: Document) -> Iterator[Problem]:
    collateral = document.get("collateral")
    if collateral is None:
        return
    if collateral["required"] and not collateral.get("types"):
        yield Problem(pointer("collateral", "types"), "collateral.types_missing",
                      "要求担保物时须列出可接受的担保物类型",
                      "collateral is required but no accepted types are listed")
    types = [t["type"] for t in collateral.get("types", [])]
    for i, kind in enumerate(types):
        if kind in types[:i]:
            yield Problem(pointer("collateral", "types", i, "type"), "collateral.duplicate_type",
                          f"担保物类型 {kind} 重复", f"collateral type {kind} is listed twice")
    if "min_coverage" in collateral and _dec(collateral["min_coverage"]) < 1:
        yield Problem(pointer("collateral", "min_coverage"), "collateral.coverage_below_one", "最低覆盖倍数不得小于 1",
                      f"minimum coverage must be at least 1, got {collateral['min_coverage']}")


def check_limits(document: Document) -> Iterator[Problem]:
    limit = _dec(document["credit_limits"]["max_outstanding_per_customer"])
    low = _dec(document["amount"]["min"])
    if limit < low:
        yield Problem(pointer("credit_limits", "max_outstanding_per_customer"), "limits.below_min_amount",
                      f"单户最高余额 {limit} 小于最小贷款金额 {low}，无人可借",
                      f"the customer limit {limit} is below the minimum amount {low}: nobody could borrow")
    age = document["eligibility"].get("age")
    if age is not None and age["min"] > age["max"]:
        yield Problem(pointer("eligibility", "age", "max"), "range.min_above_max", "最高年龄小于最低年龄",
                      f"eligibility age: max {age['max']} is below min {age['min']}")
    regions = document["eligibility"].get("regions", {})
    for i, code in enumerate(regions.get("deny", [])):
        if code in regions.get("allow", []):
            yield Problem(pointer("eligibility", "regions", "deny", i), "eligibility.region_conflict",
                          f"地区 {code} 同时出现在准入和禁入名单中", f"region {code} is both allowed and refused")


#: the checks of this module with the top-level sections each reads (skipped when those are broken)
NUMBER_CHECKS: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (check_money_places, ("amount", "credit_limits", "fees")),
    (check_amount, ("amount",)),
    (check_term, ("term",)),
    (check_rate, ("rate",)),
    (check_repayment, ("repayment", "term")),
    (check_fees, ("fees", "prepayment")),
    (check_penalty, ("penalty",)),
    (check_prepayment, ("prepayment", "term", "repayment")),
    (check_collateral, ("collateral",)),
    (check_limits, ("credit_limits", "amount", "eligibility")),
    (check_debit, ("debit",)),
)
