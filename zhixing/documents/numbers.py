"""Document numbers (文书字号) of court documents, derived from the case number."""

# Full-width parentheses are part of the printed document number.
# ruff: noqa: RUF002

from __future__ import annotations

from zhixing.cases.case_numbers import chinese_number, parse_case_number


def document_number(case_number: str, further: int = 0) -> str:
    """Return the document number printed on a document of the case: （2026）粤0104执1234号.

    Documents carry the case number with full-width parentheses. ``further`` numbers a further
    ruling in the same case (1 gives the suffix 之一, 2 gives 之二); a case number that carries
    a suffix already keeps it when ``further`` is 0. Raises ``CaseNumberError`` for a number
    that does not parse.
    """
    number = parse_case_number(case_number)
    text = number.format().replace("(", "（", 1).replace(")", "）", 1)
    if further:
        text = text.removesuffix(number.suffix) + "之" + chinese_number(further)
    return text
