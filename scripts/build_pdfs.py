"""Render every Markdown file in scripts/pdf_sources/ to a PDF policy in corpus/policies/<stem>.pdf.

Run from the repository root: `.venv/bin/python scripts/build_pdfs.py`.
Handles `key: value` front matter, #/##/### headings, paragraphs, `- ` bullets and pipe tables. Text is folded
to latin-1 for the core Helvetica font; the creation date is fixed, so re-runs give byte-identical files.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "pdf_sources"
OUTPUT = ROOT / "corpus" / "policies"
CREATION_DATE = datetime(2026, 1, 1, tzinfo=UTC)
FOLDS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                       "\u2212": "-", "\u2022": "-", "\u2026": "...", "\u00a0": " ", "\u2192": "->"})
HEADING_SIZES = {1: 18, 2: 13, 3: 11}
META_LABELS = {"policy_id": "Policy ID", "owner": "Owner", "approver": "Approver", "effective_date": "Effective date",
               "last_reviewed": "Last reviewed", "status": "Status"}


def clean(text: str) -> str:
    """Drop inline Markdown markup and fold the text to characters the core fonts can encode."""
    return re.sub(r"\*\*|`", "", text).translate(FOLDS).encode("latin-1", "replace").decode("latin-1")


def split_front_matter(text: str) -> tuple[dict[str, str], list[str]]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, lines
    end = lines.index("---", 1)
    pairs = (line.partition(":") for line in lines[1:end])
    return {key.strip(): value.strip() for key, _, value in pairs}, lines[end + 1 :]


class PolicyPDF(FPDF):
    def __init__(self, doc_title: str) -> None:
        super().__init__(format="Letter")
        self.doc_title = clean(doc_title)
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"Brightline Software - {self.doc_title}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    def block(self, text: str, size: float = 10, style: str = "", bullet: bool = False, after: float = 2) -> None:
        """Write a wrapped paragraph, heading (bold, larger size) or bullet item, then leave `after` mm."""
        self.set_font("Helvetica", style, size)
        if bullet:
            self.set_x(self.l_margin + 3)
            self.cell(4, 5.5, "-")
        self.multi_cell(0, max(5.5, size * 0.5), clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(after)

    def table_block(self, rows: list[list[str]]) -> None:
        self.set_font("Helvetica", size=8.5)
        widths = [min(max(len(row[i]) for row in rows), 60) + 4 for i in range(len(rows[0]))]
        with self.table(col_widths=widths, line_height=4.5, first_row_as_headings=True) as table:
            for row in rows:
                table.row([clean(value) for value in row])
        self.ln(2)


def render(source: Path, target: Path) -> None:
    meta, lines = split_front_matter(source.read_text(encoding="utf-8"))
    title = meta.get("title") or source.stem.replace("_", " ").title()
    pdf = PolicyPDF(title)
    pdf.set_title(clean(title))
    pdf.set_author(clean(meta.get("owner", "Brightline Software finance")))
    pdf.set_subject(clean(f"Brightline Software finance policy {meta.get('policy_id', '')}".strip()))
    pdf.set_creator("scripts/build_pdfs.py")
    pdf.set_creation_date(CREATION_DATE)
    pdf.add_page()
    paragraph: list[str] = []
    table: list[list[str]] = []
    for line in (raw.strip() for raw in [*lines, ""]):
        if table and not line.startswith("|"):
            pdf.table_block(table)
            table.clear()
        heading = re.match(r"(#{1,3})\s+(.*)", line)
        if paragraph and (not line or heading or line.startswith(("|", "- ", "* "))):
            pdf.block(" ".join(paragraph))
            paragraph.clear()
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                table.append(cells)
        elif heading:
            level = len(heading.group(1))
            pdf.ln(4 if level > 1 else 0)
            pdf.block(heading.group(2), HEADING_SIZES[level], "B", after=1.5)
            if level == 1 and meta:
                parts = [f"{META_LABELS[key]}: {meta[key]}" for key in META_LABELS if key in meta]
                pdf.block(" | ".join(parts), size=8.5, after=3)
        elif line.startswith(("- ", "* ")):
            pdf.block(line[2:], bullet=True, after=0.8)
        elif line:
            paragraph.append(line)
    target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(target))


def main() -> None:
    for source in sorted(SOURCES.glob("*.md")):
        render(source, OUTPUT / f"{source.stem}.pdf")
        print(f"{source.relative_to(ROOT)} -> corpus/policies/{source.stem}.pdf")


if __name__ == "__main__":
    main()
