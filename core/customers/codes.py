"""The registry codes of an enterprise file: the unified social credit code and the industry code.

* 统一社会信用代码 (GB 32100-2015): 18 characters from the 31-character alphabet ``0-9 A-H J-N P-R T U W-Y``
  (no I, O, S, V, Z). The first is the registering authority, the second the kind of entity, six digits the
  region, nine the organisation code (itself with a check character, GB 11714), the last the check character
  of the first seventeen: weights ``3^i mod 31``, ``31 - (sum mod 31)``. :func:`normalise_credit_code` checks
  the form and both check characters (``stdnum.cn.uscc`` for the whole code, GB 11714 here for the
  organisation code), so a forged or mistyped code is refused.
* 国民经济行业分类 (GB/T 4754-2017, amended 2019): a section letter ``A``..``T`` and up to four digits
  (division, group, class: ``C1311``). :data:`INDUSTRY_STANDARD` holds the sections with their divisions as
  dated data; :func:`normalise_industry_code` accepts the code with or without its letter and refuses a
  division outside the standard or a letter that is not its section. Groups and classes are checked for form
  only: the standard's 1,380 classes are not shipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from core.customers.parties import InvalidCustomerError


@dataclass(frozen=True)
class IndustryStandard:
    """A classification in force from ``effective_from``: section letter -> (first, last) division."""

    name: str
    effective_from: str
    source: str
    sections: dict[str, tuple[int, int]]

    def section_of(self, division: int) -> str | None:
        """The section letter of a two-digit division, or ``None`` when the standard has no such division."""
        for letter, (first, last) in self.sections.items():
            if first <= division <= last:
                return letter
        return None


INDUSTRY_STANDARD = IndustryStandard(
    name="GB/T 4754-2017", effective_from="2017-10-01",
    source="国民经济行业分类 GB/T 4754-2017 with amendment No. 1 (2019); sections and their divisions",
    sections={"A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
              "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
              "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
              "S": (91, 96), "T": (97, 97)},
)

_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_INDUSTRY = re.compile(r"([A-T])?([0-9]{2,4})")


def normalise_credit_code(value: object) -> str:
    """The canonical unified social credit code (upper case, no spaces), or :class:`InvalidCustomerError` on
    ``credit_code`` when its form or a check character is wrong."""
    if not isinstance(value, str):
        raise InvalidCustomerError("credit_code: must be a string of 18 characters", field="credit_code",
                                   value=value)
    text = unicodedata.normalize("NFKC", value)
    try:
        code = str(uscc.validate(text))
    except ValidationError:
        code = ""
    if not code or not _organisation_code_checks(code[8:17]):
        raise InvalidCustomerError(f"credit_code: {value!r} is not a valid unified social credit code "
                                   "(GB 32100: form or check character)", field="credit_code", value=value)
    return code


def _organisation_code_checks(code: str) -> bool:
    """Whether the nine-character organisation code (GB 11714) inside a credit code carries its check
    character: weights 3 7 9 10 5 8 4 2, ``11 - (sum mod 11)``, 10 written ``X`` and 11 ``0``."""
    body, check = code[:8], code[8]
    if not all(ch.isdigit() or "A" <= ch <= "Z" for ch in body):
        return False
    values = (int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body)
    total = sum(value * weight for value, weight in zip(values, _ORGANISATION_WEIGHTS, strict=True))
    expected = 11 - total % 11
    return check == {10: "X", 11: "0"}.get(expected, str(expected))


def normalise_industry_code(value: object, standard: IndustryStandard = INDUSTRY_STANDARD) -> str:
    """The code with its section letter (``1311`` -> ``C1311``), or :class:`InvalidCustomerError` on
    ``industry_code`` when the form, the division or the letter is wrong."""
    found = _INDUSTRY.fullmatch(value.strip().upper()) if isinstance(value, str) else None
    if found is None:
        raise InvalidCustomerError(f"industry_code: {value!r} is not a {standard.name} code (a section letter and "
                                   "two to four digits, such as C1311)", field="industry_code", value=value)
    letter, digits = found.groups()
    section = standard.section_of(int(digits[:2]))
    if section is None:
        raise InvalidCustomerError(f"industry_code: {standard.name} has no division {digits[:2]}",
                                   field="industry_code", value=value)
    if letter is not None and letter != section:
        raise InvalidCustomerError(f"industry_code: division {digits[:2]} belongs to section {section}, not "
                                   f"{letter}", field="industry_code", value=value)
    return section + digits
