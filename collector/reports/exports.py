"""Report tables and their data forms: CSV, JSON values and XLSX (openpyxl), byte for byte
reproducible; the PDF form is :mod:`collector.reports.pdf`.

A report is a list of :class:`ReportTable`; the same table renders in every format. Data forms
keep numbers as numbers: durations in seconds (CSV, JSON); XLSX shows them as ``h:mm:ss`` but
holds real spreadsheet durations, and its totals are formulas over the rows (``=SUM(D6:D40)``)
an analyst can check. Output is deterministic: XLSX document properties and ZIP entry times are
pinned to a fixed moment (the end of the report's period), so regenerating a report over
unchanged data gives the same bytes, and the file's SHA-256 says whether anything changed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from collector.reports.labels import label, sheet_name

# Columns whose values are numbers and how they are shown in XLSX.
_NUMBER_FORMATS = {
    "int": "0",
    "seconds": "[h]:mm:ss",
    "hours": "[h]:mm:ss",
    "percent": "0.0",
    "float": "0.00",
    "date": "yyyy-mm-dd",
    "time": "hh:mm:ss",
}
# Durations: seconds or hours in the data, days in a spreadsheet (its unit of time)
_PER_DAY = {"seconds": 86400.0, "hours": 24.0}
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass
class Column:
    key: str
    kind: str = "text"  # text, int, seconds, hours, percent, float, date, time
    width: float = 12.0


@dataclass(frozen=True)
class Total:
    """A total cell: the sum of its column's rows (``SUM``), or how many rows it has
    (``COUNTA``, shown with ``unit``: "12 diffusions"). XLSX writes the formula, others the value."""

    fn: str  # SUM or COUNTA
    value: float
    unit: str = ""


@dataclass
class ReportTable:
    key: str  # label key of the title, e.g. t_playlist
    columns: list[Column]
    rows: Sequence[Sequence[Any]]
    totals: Sequence[Any] | None = None  # values, or Total cells


@dataclass
class ReportMeta:
    """What a report states above its tables."""

    title: str
    lines: list[str] = field(default_factory=list)  # period, station, zone, final-only note
    stamp: datetime = datetime(2000, 1, 1, tzinfo=UTC)  # pinned creation time: the period's end


def hms(seconds: float) -> str:
    """A duration as h:mm:ss, to the nearest second (hours go past 24)."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _text(value: Any, kind: str) -> str:
    """A cell as data (CSV): durations in seconds or hours, as numbers."""
    if isinstance(value, Total):
        return f"{value.value:g} {value.unit}".strip() if value.fn == "COUNTA" else _text(value.value, kind)
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


def shown(value: Any, kind: str) -> str:
    """A cell as a reader sees it (PDF): durations as h:mm:ss."""
    number = value.value if isinstance(value, Total) and value.fn == "SUM" else value
    if kind in _PER_DAY and isinstance(number, int | float):
        return hms(float(number) * 86400.0 / _PER_DAY[kind])
    return _text(value, kind)


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


def _number(value: Any, kind: str) -> Any:
    """A cell's value as data: numbers to three decimals (JSON answers and the XLSX alike)."""
    if value is None:
        return None
    if kind in ("seconds", "hours", "percent", "float"):
        return round(float(value), 3)
    if kind == "int":
        return int(value)  # PostgreSQL sums counts as numeric
    return value


def _xlsx_value(value: Any, kind: str) -> Any:
    """A cell's value in XLSX: durations in days (the spreadsheet's unit of time)."""
    number = _number(value, kind)
    if kind in _PER_DAY and number is not None:
        return number / _PER_DAY[kind]
    return number


def json_value(value: Any, kind: str) -> Any:
    """A cell's value in a JSON answer: as in CSV, with dates and times as ISO text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return _number(value, kind)


def _total_cell(ws: Any, column: int, total: Total, first: int, last: int, kind: str) -> None:
    """A total as a formula over rows ``first``..``last`` of ``column`` (its value when empty)."""
    from openpyxl.utils import get_column_letter

    cell = ws.cell(row=ws.max_row, column=column)
    letter = get_column_letter(column)
    if last >= first:
        cell.value = f"={total.fn}({letter}{first}:{letter}{last})"
    else:
        cell.value = _xlsx_value(total.value, kind) if total.fn == "SUM" else 0
    if total.fn == "COUNTA":
        cell.number_format = f'0" {total.unit}"' if total.unit else "0"
    elif kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[kind]


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
            first, last = header_row + 1, ws.max_row
            ws.append(
                [
                    None if isinstance(v, Total) else _xlsx_value(v, c.kind)
                    for v, c in zip(table.totals, table.columns, strict=True)
                ]
            )
            for i, (v, c) in enumerate(zip(table.totals, table.columns, strict=True), start=1):
                if isinstance(v, Total):
                    _total_cell(ws, i, v, first, last, c.kind)
            for cell in ws[ws.max_row]:
                cell.font = bold
    buf = io.BytesIO()
    wb.save(buf)
    return _pin_zip(buf.getvalue(), meta.stamp)
