"""Lay a contract out as an A4 PDF with fpdf2.

The document is deterministic: the same :class:`~plugins.local_esign.contract.ContractContent` gives the
same bytes (the PDF creation date is the signing date, the fonts are cut from the same file), so a
contract can be re-rendered and its hash compared. Pages carry the contract number and "第 n 页 / 共 m
页" in the footer, so a page cannot be swapped in from another contract unnoticed by a reader.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

import cn2an
from fpdf import FPDF, FontFace
from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos

from core.businessday.clock import lender_zone
from plugins.local_esign.contract import ContractContent
from plugins.local_esign.fonts import document_fonts

FAMILY = "NotoSansSC"
#: the fallback family: the document's characters outside the common cut (see plugins.local_esign.fonts)
EXTRA_FAMILY = "NotoSansSCExtra"
SCHEDULE_HEADINGS = ("期数", "应还日期", "应还本金", "应还利息", "应还费用", "应还合计", "剩余本金")
FOOTER_TEXT = "合同编号 {contract_id}    第 {page} 页 / 共 {{nb}} 页"
HEADER_TEXT = "合同编号：{contract_id}    签订日期：{signed_on}"
PARTIES_HEADING = "第一条 合同当事人"
TERMS_HEADING = "第二条 借款要素"
SCHEDULE_HEADING = "第三条 还款计划"
CLAUSE_HEADING = "第{number}条 {heading}"
LENDER_SIGNS = "出借人（电子签章）：{name}"
BORROWER_SIGNS = "借款人（电子签名）：{name}"
SIGNED_ON = "签订日期：{signed_on}"
#: every character the layout adds to the content's own text, so the font subset holds them
LAYOUT_TEXT = "".join((FOOTER_TEXT, HEADER_TEXT, PARTIES_HEADING, TERMS_HEADING, SCHEDULE_HEADING, CLAUSE_HEADING,
                       LENDER_SIGNS, BORROWER_SIGNS, SIGNED_ON, *SCHEDULE_HEADINGS, "0123456789零一二三四五六七八九十"))


class _ContractPdf(FPDF):
    def __init__(self, contract_id: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.contract_id = contract_id

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 6, FOOTER_TEXT.format(contract_id=self.contract_id, page=self.page_no()), align="C")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)


#: marks a Chinese line must not start with (禁则): they hang at the end of the line before instead
NO_LINE_START = frozenset("，。、；：？！）」』》】…%,.;:?!)")


def wrap_lines(lines: list[str]) -> list[str]:
    """Move closing punctuation that fpdf2's character wrapping put at a line's start to the line before.

    >>> wrap_lines(["不得用于其他用途", "。下一句"])
    ['不得用于其他用途。', '下一句']
    """
    out: list[str] = []
    for line in lines:
        while out and line and line[0] in NO_LINE_START:
            out[-1] += line[0]
            line = line[1:]
        if line or not out:
            out.append(line)
    return out


def _paragraph(pdf: FPDF, text: str) -> None:
    lines = pdf.multi_cell(0, 6, text, wrapmode=WrapMode.CHAR, dry_run=True, output=MethodReturnValue.LINES)
    for line in wrap_lines(list(lines)):  # type: ignore[arg-type]
        pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pairs(pdf: FPDF, rows: tuple[tuple[str, str], ...]) -> None:
    with pdf.table(col_widths=(45, 135), first_row_as_headings=False, line_height=6.5,
                   wrapmode=WrapMode.CHAR) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value)


def _schedule(pdf: FPDF, content: ContractContent) -> None:
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(col_widths=(12, 26, 28, 26, 22, 30, 36), line_height=5.5, wrapmode=WrapMode.CHAR,
                   text_align=("CENTER", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=FontFace(emphasis="BOLD")) as table:
        table.row(SCHEDULE_HEADINGS)
        for line in content.schedule:
            table.row((str(line.period), line.due_date, line.principal, line.interest, line.fee, line.total,
                       line.remaining_principal))
        totals = content.schedule_totals
        table.row(("", totals.due_date, totals.principal, totals.interest, totals.fee, totals.total, ""))
    pdf.set_font(FAMILY, "", 10)


def _signature_block(pdf: FPDF, content: ContractContent) -> None:
    pdf.ln(6)
    lender = dict(content.parties)["出借人（甲方）"]
    borrower = dict(content.parties)["借款人（乙方）"]
    pdf.cell(90, 7, LENDER_SIGNS.format(name=lender))
    pdf.cell(90, 7, BORROWER_SIGNS.format(name=borrower), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 7, SIGNED_ON.format(signed_on=content.signed_on.isoformat()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def bold_text(content: ContractContent) -> str:
    """Every character set in bold: the title, the section and clause headings, the schedule's headings."""
    headings = (content.title, PARTIES_HEADING, TERMS_HEADING, SCHEDULE_HEADING, *SCHEDULE_HEADINGS,
                *(clause.heading for clause in content.clauses), CLAUSE_HEADING, "0123456789零一二三四五六七八九十")
    return "".join(headings)


@lru_cache(maxsize=32)
def render_pdf(content: ContractContent) -> bytes:
    """The contract as PDF bytes (A4, Noto Sans SC embedded as a subset of the glyphs it uses).

    Rendering is deterministic, so the last few documents are kept: asking again for the same contract
    (the borrower reopening it) returns the same bytes at once.
    """
    with document_fonts(content.all_text(), bold_text(content), LAYOUT_TEXT) as fonts:
        pdf = _ContractPdf(content.contract_id)
        pdf.set_creation_date(datetime.combine(content.signed_on, time(0), tzinfo=lender_zone()))
        pdf.set_title(f"{content.title} {content.contract_id}")
        pdf.set_author(dict(content.parties)["出借人（甲方）"])
        pdf.set_creator("loanfactory local_esign")
        pdf.add_font(FAMILY, "", str(fonts.regular))
        pdf.add_font(FAMILY, "B", str(fonts.bold))
        if fonts.extra is not None:
            pdf.add_font(EXTRA_FAMILY, "", str(fonts.extra))
            pdf.set_fallback_fonts([EXTRA_FAMILY], exact_match=False)
        pdf.set_auto_page_break(auto=True, margin=16)
        pdf.set_margins(15, 15, 15)
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 18)
        pdf.cell(0, 12, content.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(0, 6, HEADER_TEXT.format(contract_id=content.contract_id, signed_on=content.signed_on.isoformat()),
                 align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 10)
        _paragraph(pdf, content.preamble)
        _heading(pdf, PARTIES_HEADING)
        _pairs(pdf, content.parties)
        _heading(pdf, TERMS_HEADING)
        _pairs(pdf, content.key_terms)
        _heading(pdf, SCHEDULE_HEADING)
        _schedule(pdf, content)
        for number, clause in enumerate(content.clauses, start=4):
            _heading(pdf, CLAUSE_HEADING.format(number=cn2an.an2cn(str(number)), heading=clause.heading))
            _paragraph(pdf, clause.text)
        _signature_block(pdf, content)
        return bytes(pdf.output())

