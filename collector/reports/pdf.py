"""Render report tables as PDF (reportlab), byte for byte reproducible.

Landscape A4, the report's header lines on the first page, tables repeating their header on
every page, "Page x of y" in the footer. Durations read as h:mm:ss. The file is written in
reportlab's ``invariant`` mode (a fixed document id) with its creation date set to the report's
``stamp``, the end of its period, so regenerating a report over unchanged data gives the same
bytes.

Letters beyond Latin-1 (Wolof's "Ŋ", "ñ" is fine everywhere) need DejaVu Sans, which Debian's
``fonts-dejavu-core`` installs in ``/usr/share/fonts/truetype/dejavu``; without it the PDF
falls back to Helvetica, prints such letters as black boxes, and the collector logs a warning
saying which package to install.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from collector.reports.exports import ReportMeta, ReportTable, shown
from collector.reports.labels import label

log = logging.getLogger("collector.reports")

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONT_PACKAGE = "fonts-dejavu-core"


@functools.cache
def fonts() -> tuple[str, str]:
    """DejaVu Sans when installed (covers Wolof and other Latin letters), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        log.warning(
            "PDF reports: DejaVu Sans is not in %s, so letters such as Ŋ print as black boxes "
            "(Helvetica has none); install it: apt-get install %s",
            DEJAVU,
            FONT_PACKAGE,
        )
        return "Helvetica", "Helvetica-Bold"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"


def _numbered_canvas(meta: ReportMeta, lang: str, font: str) -> type:
    """A canvas that holds its pages until the end, to print "Page x of y" on each, and dates
    the document at ``meta.stamp``."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    stamp = meta.stamp.astimezone(UTC)

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            # invariant mode pins 2000-01-01; the report's date is the end of its period
            self._doc._timeStamp.YMDhms = stamp.timetuple()[:6]
            self._doc._timeStamp.dhh = self._doc._timeStamp.dmm = 0

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for page in self._pages:
                self.__dict__.update(page)
                self.saveState()
                self.setFont(font, 7)
                self.drawString(10 * mm, 6 * mm, meta.title)
                self.drawRightString(287 * mm, 6 * mm, label("page_of", lang).format(self._pageNumber, total))
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


def to_pdf(tables: Sequence[ReportTable], meta: ReportMeta, lang: str) -> bytes:
    """Landscape A4; header lines on the first page; tables repeat their header on each page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font, bold = fonts()
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
            [fit(shown(v, c.kind)) for v, c, fit in zip(row, table.columns, fits, strict=True)]
            for row in table.rows
        ]
        if table.totals is not None:
            body.append([shown(v, c.kind) for v, c in zip(table.totals, table.columns, strict=True)])
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
    doc.build(story, canvasmaker=_numbered_canvas(meta, lang, font))
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
