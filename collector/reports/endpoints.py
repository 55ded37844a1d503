"""Reports API for analysts (role ``analyst`` or ``admin``): plays, relevé de diffusion, airtime,
station activity, unidentified music, and the generated monthly/semester files.

Times are stored in UTC and shown in ``settings.timezone`` (Africa/Dakar); every answer says
which zone. Distribution reports count final plays only; ``/plays`` also lists open plays,
flagged ``"final": false``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.orm import Session

from collector.db.request import RowId, get_session
from collector.errors import InvalidRequest, NotFound, error_responses
from collector.fleet.auth import require_role
from collector.fleet.models import User
from collector.ingest.models import SILENCE_DBFS
from collector.reports import distribution, exports, listing, monitoring, pdf, repository, schedule, service
from collector.reports.cache import ReportCache
from collector.reports.exports import ReportMeta, ReportTable
from collector.reports.labels import label
from collector.reports.models import GeneratedReport
from collector.reports.periods import Period, parse_period, zone
from collector.reports.storage import storage_for
from collector.settings import CollectorSettings
from shared.schemas import no_nul, utc

router = APIRouter(tags=["reports"], responses=error_responses(401, 403, 404, 422))
Analyst = Annotated[User, Depends(require_role("analyst"))]
DB = Annotated[Session, Depends(get_session)]
PeriodQ = Annotated[
    str,
    Query(
        description="2026-01 (month), 2026-S1 (semester), 2026 (year), 2026-01-15 (day) or "
        "2026-01-01..2026-01-15 (days, both included), in the collector's time zone",
        examples=["2026-01"],
    ),
]
StationsQ = Annotated[list[str] | None, Query(description="station slug; repeat for several")]
LangQ = Annotated[Literal["fr", "en"], Query(description="language of XLSX/PDF labels (French by default)")]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
XLSX_MAX_ROWS = 1_000_000
MAX_PAGE = 1_000_000  # page × page_size stays far below the databases' integer range
PageQ = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _settings(request: Request) -> CollectorSettings:
    settings: CollectorSettings = request.app.state.settings
    return settings


def _cache(request: Request) -> ReportCache:
    """The app's report cache (a bare one for an app built without its lifespan)."""
    cache: ReportCache | None = getattr(request.app.state, "report_cache", None)
    if cache is None:
        cache = request.app.state.report_cache = ReportCache()
    return cache


def _period(request: Request, text: str) -> Period:
    return parse_period(text, _settings(request).timezone)


def _instant(value: datetime | None, name: str) -> datetime | None:
    """A ``from``/``to`` time in UTC; one without a zone, or out of range once in UTC, is refused."""
    if value is None:
        return None
    try:
        return utc(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name}: {exc}; e.g. 2026-01-01T00:00:00Z") from None


def _table_json(table: ReportTable) -> list[dict[str, Any]]:
    return [
        {c.key: exports.json_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)}
        for row in table.rows
    ]


def _file(data: bytes, fmt: str, filename: str) -> Response:
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def _named(filename: str, lang: str) -> str:
    """A labelled file's name says its language unless French, as the generated files' do
    (``playlist-rfm-2026-01-en.pdf``); CSV headers are the same keys in every language."""
    return filename if lang == "fr" else f"{filename}-{lang}"


def _render(tables: list[ReportTable], meta: ReportMeta, fmt: str, lang: str, filename: str) -> Response:
    if fmt == "csv":
        return _file(exports.to_csv(tables[0]), "csv", filename)
    if fmt == "xlsx":
        return _file(exports.to_xlsx(tables, meta, lang), "xlsx", _named(filename, lang))
    return _file(pdf.to_pdf(tables, meta, lang), "pdf", _named(filename, lang))


# ---- plays ---------------------------------------------------------------------------------------


@router.get(
    "/api/v1/plays",
    summary="Plays, filtered and paginated (JSON), or the whole selection as CSV/XLSX",
    description="Open plays are included unless `status=final`; they are marked (`final: false`) "
    "and may still change. Each play carries `flag`, a reviewer's false-positive mark, or null. "
    "CSV/XLSX ignore pagination and export every matching play.",
)
def list_plays(
    request: Request,
    _user: Analyst,
    session: DB,
    station: StationsQ = None,
    period: Annotated[str | None, Query(description="see /api/v1/reports/airtime")] = None,
    since: Annotated[datetime | None, Query(alias="from", description="ISO time, inclusive")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="ISO time, exclusive")] = None,
    recording: Annotated[str | None, Query(description="catalog external id or ISRC")] = None,
    title: Annotated[str | None, Query(description="part of the title; accents and case ignored")] = None,
    artist: Annotated[
        str | None, Query(description="part of the artist name; accents and case ignored")
    ] = None,
    label_: Annotated[
        str | None, Query(alias="label", description="part of the label name; accents and case ignored")
    ] = None,
    status: Literal["open", "final", "all"] = "all",
    flagged: Annotated[
        bool | None, Query(description="true: only plays flagged as false positives; false: none of them")
    ] = None,
    page: PageQ = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQ = "fr",
) -> Any:
    tz = zone(_settings(request).timezone)
    f = repository.PlayFilter(
        station_ids=service.resolve_stations(session, station),
        recording=recording,
        title=title,
        artist=artist,
        label=label_,
        status=None if status == "all" else status,
        flagged=flagged,
    )
    if period is not None:
        p = _period(request, period)
        f.start, f.end = p.start, p.end
    since, until = _instant(since, "from"), _instant(until, "to")
    if since is not None:
        f.start = max(f.start, since) if f.start else since
    if until is not None:
        f.end = min(f.end, until) if f.end else until
    if format == "csv":
        factory = request.app.state.sessionmaker

        def body() -> Iterator[bytes]:
            # its own session: the request's may be closed before the last row is streamed
            with factory() as stream_session:
                for chunk in exports.csv_lines(
                    listing.PLAY_COLUMNS, listing.play_rows(stream_session, f, tz)
                ):
                    yield chunk.encode()

        return StreamingResponse(
            body(),
            media_type=MEDIA["csv"],
            headers={"Content-Disposition": 'attachment; filename="plays.csv"'},
        )
    total = repository.count_plays(session, f)
    if format == "xlsx":
        if total > XLSX_MAX_ROWS:
            raise InvalidRequest(f"{total} plays is more than XLSX holds; narrow or use CSV")
        rows = list(listing.play_rows(session, f, tz))
        meta = ReportMeta(
            title=label("t_plays", lang), lines=[service.zone_line(tz, f.start or datetime.now(tz), lang)]
        )
        meta.lines.append(label("open_flagged", lang))
        return _file(
            exports.to_xlsx([ReportTable("t_plays", listing.PLAY_COLUMNS, rows)], meta, lang),
            "xlsx",
            _named("plays", lang),
        )
    items = repository.plays_page(session, f, (page - 1) * page_size, page_size)
    return {
        "timezone": tz.key,
        "page": page,
        "page_size": page_size,
        "total": total,
        "items": listing.page_json(session, items, tz),
    }


# ---- reports -------------------------------------------------------------------------------------


@router.get(
    "/api/v1/reports/playlist",
    summary="Relevé de diffusion: one station's final plays in a period (XLSX, PDF, CSV or JSON)",
)
def playlist(
    request: Request,
    _user: Analyst,
    session: DB,
    station: Annotated[str, Query(description="station slug")],
    period: PeriodQ,
    format: Literal["xlsx", "pdf", "csv", "json"] = "xlsx",
    lang: LangQ = "fr",
) -> Any:
    p = _period(request, period)
    service.resolve_stations(session, [station])
    if format == "json":

        def compute() -> dict[str, Any]:
            table, _meta = distribution.playlist(session, station, p, lang)
            return {"station": station, "period": p.label, "timezone": p.tz.key, "plays": _table_json(table)}

        return _cache(request).answer(session, "playlist", p, [station, lang], compute)
    table, meta = distribution.playlist(session, station, p, lang)
    return _render([table], meta, format, lang, f"playlist-{station}-{p.label}")


@router.get(
    "/api/v1/reports/airtime",
    summary="Airtime of final plays per recording, artist, label, station or recording × station",
    description="The basis of distribution: plays, total seconds and number of stations. "
    "`by=all` (XLSX only) gives one sheet per grouping.",
)
def airtime(
    request: Request,
    _user: Analyst,
    session: DB,
    period: PeriodQ,
    by: Literal["recording", "artist", "label", "station", "recording_station", "all"] = "recording",
    station: StationsQ = None,
    page: PageQ = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQ = "fr",
) -> Any:
    p = _period(request, period)
    ids = service.resolve_stations(session, station)
    name = f"airtime-{by}-{p.label}"
    if by == "all":
        if format != "xlsx":
            raise InvalidRequest("by=all exists only as format=xlsx")
        tables, meta = distribution.airtime_report(session, p, ids, lang)
        return _render(tables, meta, "xlsx", lang, name)
    if format == "json":

        def compute() -> dict[str, Any]:
            table = distribution.airtime_table(session, by, p, ids, (page - 1) * page_size, page_size)
            return {
                "period": p.label,
                "by": by,
                "page": page,
                "page_size": page_size,
                "items": _table_json(table),
            }

        return _cache(request).answer(session, "airtime", p, [by, ids, page, page_size], compute)
    table = distribution.airtime_table(session, by, p, ids)
    return _render([table], service.meta_for(table.key, p, lang), format, lang, name)


@router.get(
    "/api/v1/reports/activity",
    summary="Station activity: monitored hours, outages, silences, share of time monitored",
)
def activity(
    request: Request,
    _user: Analyst,
    session: DB,
    period: PeriodQ,
    station: StationsQ = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQ = "fr",
) -> Any:
    p = _period(request, period)
    table = monitoring.activity_table(session, p, service.resolve_stations(session, station))
    if format == "json":
        return {"period": p.label, "timezone": p.tz.key, "stations": _table_json(table)}
    meta = service.meta_for("t_activity", p, lang)
    meta.lines.pop()
    return _render([table], meta, format, lang, f"activity-{p.label}")


@router.get(
    "/api/v1/reports/unidentified",
    summary="Music that matched nothing: per-station totals and stretches (for fallback recognition)",
    description="Segments the matcher left unmatched whose level is at or above `min_level_dbfs` "
    "(or unknown). CSV gives the stretches.",
)
def unidentified(
    request: Request,
    _user: Analyst,
    session: DB,
    period: PeriodQ,
    station: StationsQ = None,
    min_level_dbfs: Annotated[float, Query(le=0, ge=-200, allow_inf_nan=False)] = SILENCE_DBFS,
    max_stretches: Annotated[int, Query(ge=0, le=100_000)] = 1000,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQ = "fr",
) -> Any:
    p = _period(request, period)
    summary, runs = monitoring.unidentified_tables(
        session, p, service.resolve_stations(session, station), min_level_dbfs, max_stretches
    )
    if format == "json":
        return {
            "period": p.label,
            "timezone": p.tz.key,
            "min_level_dbfs": min_level_dbfs,
            "stations": _table_json(summary),
            "stretches": _table_json(runs),
        }
    meta = service.meta_for("t_unidentified", p, lang)
    meta.lines.pop()
    tables = [runs] if format == "csv" else [summary, runs]
    return _render(tables, meta, format, lang, f"unidentified-{p.label}")


# ---- generated files -----------------------------------------------------------------------------


Text = Annotated[str, Field(max_length=64), AfterValidator(no_nul)]


class GenerateRequest(BaseModel):
    period: Text = Field(examples=["2026-01"])
    station: Text | None = Field(default=None, description="a station's playlists; none: the global reports")
    lang: Literal["fr", "en"] = "fr"


@router.get("/api/v1/reports/files", summary="Generated monthly and semester report files")
def list_files(
    _user: Analyst,
    session: DB,
    period: str | None = None,
    report: Literal["airtime", "activity", "playlist"] | None = None,
    station: str | None = Query(default=None, description="station slug, or `all` for global reports"),
) -> dict[str, Any]:
    records = repository.generated_reports(session, period, report, station)
    return {"files": [schedule.describe(r) for r in records]}


@router.get("/api/v1/reports/files/{file_id}", summary="Download a generated report file")
def download_file(request: Request, file_id: RowId, _user: Analyst, session: DB) -> Response:
    record = session.get(GeneratedReport, file_id)
    if record is None:
        raise NotFound(f"no generated report {file_id}; see GET /api/v1/reports/files")
    storage = storage_for(_settings(request))
    filename = record.name.rsplit("/", 1)[-1]
    path = storage.local_path(record.name)
    if path is not None and path.is_file():
        return FileResponse(path, media_type=MEDIA[record.fmt], filename=filename)
    data = storage.read(record.name)
    return _file(data, record.fmt, filename.rsplit(".", 1)[0])


@router.post(
    "/api/v1/reports/files",
    summary="(Re)generate a period's global reports, or one station's playlists, now",
    description="Regenerating over unchanged data writes byte-identical files (`changed: false`).",
)
def generate_files(request: Request, body: GenerateRequest, _user: Analyst, session: DB) -> dict[str, Any]:
    settings = _settings(request)
    _period(request, body.period)
    stations = [body.station] if body.station else []
    service.resolve_stations(session, stations)
    done = schedule.generate_period(
        session, settings, body.period, stations, include_global=body.station is None, lang=body.lang
    )
    session.commit()
    return {"files": [{**schedule.describe(r), "changed": changed} for r, changed in done]}
