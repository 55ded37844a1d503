"""Render report tables as CSV, XLSX (openpyxl) and PDF (reportlab), byte for byte reproducible.

A report is a list of :class:`ReportTable`; the same table renders in every format. Output is
deterministic: XLSX document properties and ZIP entry times are pinned to a fixed moment (the
end of the report's period), and PDFs are written in reportlab's ``invariant`` mode (fixed
creation date and document id), so regenerating a report over unchanged data gives the same
bytes, and the file's SHA-256 says whether anything changed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from collector.reports.labels import label, sheet_name

# Columns whose values are numbers and how they are shown in XLSX.
_NUMBER_FORMATS = {
    "int": "0",
    "seconds": "0.0",
    "hours": "0.00",
    "percent": "0.0",
    "float": "0.00",
    "date": "yyyy-mm-dd",
    "time": "hh:mm:ss",
}
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass
class Column:
    key: str
    kind: str = "text"  # text, int, seconds, hours, percent, float, date, time
    width: float = 12.0


@dataclass
class ReportTable:
    key: str  # label key of the title, e.g. t_playlist
    columns: list[Column]
    rows: Sequence[Sequence[Any]]
    totals: Sequence[Any] | None = None


@dataclass
class ReportMeta:
    """What a report states above its tables."""

    title: str
    lines: list[str] = field(default_factory=list)  # period, station, zone, final-only note
    stamp: datetime = datetime(2000, 1, 1, tzinfo=UTC)  # pinned creation time


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "time" and isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if kind in ("seconds", "percent"):
        return f"{float(value):.1f}"
    if kind in ("hours", "float"):
        return f"{float(value):.2f}"
    return str(value)


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text (UTF-8, comma, header of column keys), one chunk per row, for streaming."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_text(v, c.kind) for v, c in zip(row, columns, strict=True)])
        yield buf.getvalue()


def to_csv(table: ReportTable) -> bytes:
    return "".join(csv_lines(table.columns, table.rows)).encode()


def _pin_zip(raw: bytes, stamp: datetime) -> bytes:
    """Rewrite a ZIP with every entry dated 1980-01-01, in the same order (deterministic).

    openpyxl stamps ``dcterms:modified`` with the time of saving whatever we set; it is
    replaced with ``stamp`` here.
    """
    when = stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + when + rb"\g<2>", data)
            dst.writestr(pinned, data)
    return out.getvalue()


def _xlsx_value(value: Any, kind: str) -> Any:
    """A cell's value in XLSX: numbers to three decimals (what the JSON answers hold)."""
    if value is None:
        return None
    if kind in ("seconds", "hours", "percent", "float"):
        return round(float(value), 3)
    if kind == "int":
        return int(value)  # PostgreSQL sums counts as numeric
    return value


def json_value(value: Any, kind: str) -> Any:
    """A cell's value in a JSON answer: as in XLSX, with dates and times as ISO text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return _xlsx_value(value, kind)


def to_xlsx(tables: Sequence[ReportTable], meta: ReportMeta, lang: str) -> bytes:
    """One sheet per table: title and header lines, column labels, rows, then totals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    stamp = meta.stamp.astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = label("source", lang)
    wb.properties.lastModifiedBy = label("source", lang)
    wb.properties.title = meta.title
    wb.properties.created = stamp
    wb.properties.modified = stamp
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(sheet_name(table.key, lang))
        ws.append([meta.title if len(tables) == 1 else label(table.key, lang)])
        ws["A1"].font = Font(bold=True, size=13)
        for line in meta.lines:
            ws.append([line])
        ws.append([])
        ws.append([label(c.key, lang) for c in table.columns])
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = bold
        ws.freeze_panes = f"A{header_row + 1}"
        for row in table.rows:
            ws.append([_xlsx_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        for i, col in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
            fmt = _NUMBER_FORMATS.get(col.kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=i, max_col=i):
                    cell.number_format = fmt
        if table.totals is not None:
            ws.append([_xlsx_value(v, c.kind) for v, c in zip(table.totals, table.columns, strict=True)])
            for cell in ws[ws.max_row]:
                cell.font = bold
    buf = io.BytesIO()
    wb.save(buf)
    return _pin_zip(buf.getvalue(), meta.stamp)


def _fonts() -> tuple[str, str]:
    """DejaVu Sans when installed (covers Wolof and other Latin letters), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return "Helvetica", "Helvetica-Bold"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"


def to_pdf(tables: Sequence[ReportTable], meta: ReportMeta, lang: str) -> bytes:
    """Landscape A4; header lines on the first page; tables repeat their header on each page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font, bold = _fonts()
    title_style = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18)
    line_style = ParagraphStyle("line", fontName=font, fontSize=9, leading=12)
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=7, leading=8.5)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=12 * mm,
        title=meta.title,
        author=label("source", lang),
        creator=label("source", lang),
        producer=label("source", lang),
        subject=" ".join(meta.lines),
        invariant=1,
    )

    def footer(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.drawString(10 * mm, 6 * mm, meta.title)
        canvas.drawRightString(287 * mm, 6 * mm, f"{label('page', lang)} {doc_.page}")
        canvas.restoreState()

    story: list[Any] = [Paragraph(_xml(meta.title), title_style)]
    story += [Paragraph(_xml(line), line_style) for line in meta.lines]
    usable = landscape(A4)[0] - 20 * mm
    for table in tables:
        story += [Spacer(1, 4 * mm), Paragraph(_xml(label(table.key, lang)), title_style), Spacer(1, 2 * mm)]
        total_width = sum(c.width for c in table.columns)
        widths = [usable * c.width / total_width for c in table.columns]
        header = [Paragraph(_xml(label(c.key, lang)), cell_style) for c in table.columns]
        # plain strings, cut to the column, draw ten times faster than wrapped paragraphs
        fits = [_fitter(w - 4, font, 7) for w in widths]
        body = [
            [fit(_text(v, c.kind)) for v, c, fit in zip(row, table.columns, fits, strict=True)]
            for row in table.rows
        ]
        if table.totals is not None:
            body.append([_text(v, c.kind) for v, c in zip(table.totals, table.columns, strict=True)])
        style = TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dddddd")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
        # tables of a few hundred rows split faster than one huge table
        chunk = 400
        for i in range(0, max(len(body), 1), chunk):
            part = Table([header, *body[i : i + chunk]], colWidths=widths, repeatRows=1)
            part.setStyle(style)
            story.append(part)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _fitter(width: float, font: str, size: float) -> Any:
    """A function cutting text to ``width`` points, marking the cut with an ellipsis."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def fit(text: str) -> str:
        if stringWidth(text, font, size) <= width:
            return text
        while text and stringWidth(text + "…", font, size) > width:
            text = text[:-1]
        return text + "…"

    return fit


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
