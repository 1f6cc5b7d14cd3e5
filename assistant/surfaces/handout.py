"""Trainer output → files: Markdown, DOCX (python-docx) and PDF (fpdf2 with a Unicode font).

Consumes ``Briefing`` and ``Prompts``; produces text or files that open in ordinary tools. Quotes are
written exactly as they stand in the reviews, so the PDF embeds a Unicode TrueType font (DejaVu Sans
from Debian's fonts-dejavu-core, or any font named by CASEBOOK_PDF_FONT).
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.trainer import Briefing, Prompts
from records.errors import ConfigError
from records.types import Citation, ReviewHit

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
ATTRIBUTION = (
    "Sources: NSPCC national case review repository and the local safeguarding partnerships that published "
    "the reviews; quotes are verbatim. Prepared with Casebook."
)


def _reference(h: ReviewHit) -> tuple[str, str, str, str]:
    m = h.best.meta
    return (str(m.year or ""), m.area or "", h.best.title, m.report_type or "")


def _citation_line(c: Citation) -> str:
    return f"[{c.n}] {c.chunk.heading} ({c.chunk.section}): “{c.quote}”"


def briefing_markdown(b: Briefing) -> str:
    out = [f"# {b.title}", "", f"_{b.subtitle}_", ""]
    if b.notice:
        out += [f"> **{b.notice}**", ""]
    for i, (name, lines) in enumerate(b.sections, 1):
        out += [f"## {i}. {name}", ""]
        if name == b.sections[-1][0]:
            out.append("| " + " | ".join(b.action_columns) + " |")
            out.append("|" + "---|" * len(b.action_columns))
            out += ["|" + "   |" * len(b.action_columns) for _ in range(b.action_rows)]
        out += [f"- {line.text}" for line in lines]
        out.append("")
    out += ["## Reviews used", "", "| Year | Area | Title | Report type |", "|---|---|---|---|"]
    out += ["| " + " | ".join(_reference(h)) + " |" for h in b.references]
    out += ["", "## Citations", ""] + [f"- {_citation_line(c)}" for c in b.citations] + ["", f"_{ATTRIBUTION}_", ""]
    return "\n".join(out)


def prompts_markdown(p: Prompts) -> str:
    out = [f"# Discussion prompts: {p.theme}", ""]
    if p.notice:
        out += [f"> **{p.notice}**", ""]
    out += [f"{i}. {line.text}" for i, line in enumerate(p.lines, 1)]
    out += ["", "## Citations", ""] + [f"- {_citation_line(c)}" for c in p.citations] + ["", f"_{ATTRIBUTION}_", ""]
    return "\n".join(out)


def write_docx(b: Briefing, path: Path) -> Path:
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading(b.title, level=0)
    doc.add_paragraph().add_run(b.subtitle).italic = True
    if b.notice:
        doc.add_paragraph().add_run(b.notice).bold = True
    for i, (name, lines) in enumerate(b.sections, 1):
        doc.add_heading(f"{i}. {name}", level=1)
        for line in lines:
            doc.add_paragraph(line.text, style="List Bullet")
        if name == b.sections[-1][0]:
            table = doc.add_table(rows=1 + b.action_rows, cols=len(b.action_columns))
            table.style = "Table Grid"
            for cell, label in zip(table.rows[0].cells, b.action_columns, strict=True):
                cell.text = label
    doc.add_heading("Reviews used", level=1)
    refs = doc.add_table(rows=1, cols=4)
    refs.style = "Table Grid"
    for cell, label in zip(refs.rows[0].cells, ("Year", "Area", "Title", "Report type"), strict=True):
        cell.text = label
    for h in b.references:
        row = refs.add_row().cells
        for cell, value in zip(row, _reference(h), strict=True):
            cell.text = value
    doc.add_heading("Citations", level=1)
    for c in b.citations:
        doc.add_paragraph(_citation_line(c))
    doc.add_paragraph().add_run(ATTRIBUTION).italic = True
    doc.save(str(path))
    return path


def _font() -> str:
    wanted = os.environ.get("CASEBOOK_PDF_FONT")
    for candidate in (wanted,) if wanted else FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    raise ConfigError(
        "PDF needs a Unicode TrueType font: expected DejaVu Sans (apt-get install fonts-dejavu-core) "
        "or a .ttf named by CASEBOOK_PDF_FONT; use --format md or docx meanwhile"
    )


def write_pdf(b: Briefing, path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    regular = _font()
    bold = regular.replace("Sans.ttf", "Sans-Bold.ttf").replace("-Regular.ttf", "-Bold.ttf")
    pdf.add_font("body", "", regular)
    pdf.add_font("body", "B", bold if Path(bold).is_file() else regular)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, size: float = 10, gap: float = 1.5) -> None:
        pdf.set_font("body", size=size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(b.title, 18, 2)
    para(b.subtitle, 9, 3)
    if b.notice:
        para(b.notice, 10, 3)
    for i, (name, lines) in enumerate(b.sections, 1):
        para(f"{i}. {name}", 13, 1)
        for line in lines:
            para(f"• {line.text}", 9.5, 1)
        if name == b.sections[-1][0]:
            pdf.set_font("body", size=9)
            with pdf.table(col_widths=(40, 20, 20, 30), line_height=7) as table:
                table.row(list(b.action_columns))
                for _ in range(b.action_rows):
                    table.row([" "] * len(b.action_columns))
            pdf.ln(3)
    para("Reviews used", 13, 1)
    pdf.set_font("body", size=8.5)
    with pdf.table(col_widths=(10, 30, 40, 20), line_height=5) as table:
        table.row(["Year", "Area", "Title", "Report type"])
        for h in b.references:
            table.row(list(_reference(h)))
    pdf.ln(3)
    para("Citations", 13, 1)
    for c in b.citations:
        para(_citation_line(c), 8, 0.8)
    para(ATTRIBUTION, 8, 0)
    pdf.output(str(path))
    return path


def write_briefing(b: Briefing, fmt: str, path: Path) -> Path:
    if fmt == "md":
        path.write_text(briefing_markdown(b), encoding="utf-8")
        return path
    if fmt == "docx":
        return write_docx(b, path)
    if fmt == "pdf":
        return write_pdf(b, path)
    raise ConfigError(f"--format: expected md, docx or pdf, got {fmt!r}")
