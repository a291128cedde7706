"""Semantic checks of a product's debit policy (``debit``): what its schema cannot say.

* the attempt plan runs forward: each entry later than the one before it (day, then hour);
* ``max_attempts`` covers the plan (a plan longer than the cap would never be finished);
* ``max_attempts`` beyond the plan needs ``overdue_retry_every_days`` (otherwise the extra attempts never come);
* the consent text names the account it authorises (``{account}``) in both languages: an authorisation that
  does not say which card it lets the lender debit is no authorisation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from core.products.problems import Problem, pointer

Document = Mapping[str, Any]


def check_debit(document: Document) -> Iterator[Problem]:
    """Every problem of the document's ``debit`` section (none when it has no such section)."""
    debit = document.get("debit")
    if not debit:
        return
    attempts = debit.get("attempts") or [{"offset_days": 0, "hour": 9}]
    for i in range(1, len(attempts)):
        before, this = attempts[i - 1], attempts[i]
        if (this["offset_days"], this["hour"]) <= (before["offset_days"], before["hour"]):
            yield Problem(pointer("debit", "attempts", i), "debit.attempts_out_of_order",
                          f"第 {i + 1} 次扣款（D{this['offset_days']:+d} {this['hour']} 时）不晚于前一次",
                          f"attempt {i + 1} (D{this['offset_days']:+d} at {this['hour']}:00) is not after the one "
                          f"before it")
    cap = int(debit.get("max_attempts", 5))
    if cap < len(attempts):
        yield Problem(pointer("debit", "max_attempts"), "debit.plan_over_cap",
                      f"最多尝试次数 {cap} 少于扣款计划的 {len(attempts)} 次",
                      f"max_attempts {cap} is fewer than the plan's {len(attempts)} attempts")
    elif cap > len(attempts) and not int(debit.get("overdue_retry_every_days", 0)):
        yield Problem(pointer("debit", "max_attempts"), "debit.cap_unreachable",
                      f"最多尝试次数 {cap} 多于扣款计划的 {len(attempts)} 次，但逾期重试间隔为 0，"
                      "多出的次数永远不会发生",
                      f"max_attempts {cap} exceeds the plan's {len(attempts)} attempts but overdue_retry_every_days "
                      "is 0: the extra attempts never happen")
    for language in ("zh", "en"):
        if "{account}" not in str(debit.get("consent_text", {}).get(language, "")):
            yield Problem(pointer("debit", "consent_text", language), "debit.consent_without_account",
                          "代扣授权条款须以 {account} 写明所授权的账户",
                          "the consent text must name the authorised account with {account}")
