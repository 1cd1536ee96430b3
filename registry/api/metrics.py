"""Metrics for the Ufficio di Piano (UdP and social workers of the ambito), the value-rate
table, the exports and the report. Every answer is aggregated and suppressed, and says so."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from registry.access import Role
from registry.api.openapi import answers
from registry.api.params import Actor, IstatQuery, PathText
from registry.common import now
from registry.errors import InvalidInput
from registry.metrics import exports, labels, outcomes, report, service
from registry.metrics.schemas import (
    CoverageOut,
    Granularity,
    NetworkGranularity,
    NetworkOut,
    RateIn,
    RateTableOut,
    SnapshotRunOut,
    SummaryOut,
    TaskLevelIn,
    TimeseriesOut,
)
from registry.offload import in_worker_process
from registry.tabular.writing import XLSX_MEDIA_TYPE
from registry.vocabularies import HolderKind, Sector, UserArea

From = Annotated[date | None, QueryParameter(name="from", description="first day (inclusive)")]
RateYear = Annotated[int, PathParameter(ge=2000, le=2100, description="the year of the rate")]
To = Annotated[date | None, QueryParameter(name="to", description="last day (inclusive)")]
Live = Annotated[
    bool, QueryParameter(description="compute from the ledger now instead of the snapshot")
]
Dialect = Annotated[
    exports.Dialect,
    QueryParameter(
        description="italian (default): Italian names and labels, ';' and decimal commas with "
        "a BOM; machine: the API's identifiers and codes, ',' and decimal points, ISO dates"
    ),
]


def _scope(
    comune: str | None, area: UserArea | None, kind: HolderKind | None, sector: Sector | None
) -> service.Scope:
    return service.Scope(
        comune=comune,
        area=area.value if area else None,
        holder_kind=kind.value if kind else None,
        sector=sector.value if sector else None,
    )


# The filters of the query, one dependency for every endpoint that takes all four; the network
# has no user area and the outcomes only comune and area (their own below).
def provide_filters(
    comune: IstatQuery = None,
    area: FromQuery[UserArea | None] = None,
    holder_kind: FromQuery[HolderKind | None] = None,
    sector: FromQuery[Sector | None] = None,
) -> service.Scope:
    return _scope(comune, area, holder_kind, sector)


def provide_network_filters(
    comune: IstatQuery = None,
    holder_kind: FromQuery[HolderKind | None] = None,
    sector: FromQuery[Sector | None] = None,
) -> service.Scope:
    return _scope(comune, None, holder_kind, sector)


def provide_outcome_filters(
    comune: IstatQuery = None, area: FromQuery[UserArea | None] = None
) -> service.Scope:
    return _scope(comune, area, None, None)


Filters = NamedDependency[service.Scope]


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """What an export or a report is asked for (checked when the bundle is made, after the
    handler's own checks)."""

    start: date | None
    end: date | None
    granularity: Granularity
    scope: service.Scope
    live: bool


def provide_export_query(
    filters: Filters,
    start: From = None,
    end: To = None,
    granularity: FromQuery[Granularity] = Granularity.MONTH,
    live: Live = False,
) -> ExportQuery:
    return ExportQuery(start, end, granularity, filters, live)


Asked = NamedDependency[ExportQuery]


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


class MetricsController(Controller):
    path = "/api/metrics"
    tags = ["metrics"]
    dependencies = {
        "filters": Provide(provide_filters, sync_to_thread=False),
        "asked": Provide(provide_export_query, sync_to_thread=False),
    }

    @get("/summary", summary="Headline figures and tables of a period (suppressed)")
    async def summary(
        self,
        actor: Actor,
        filters: Filters,
        start: From = None,
        end: To = None,
        live: Live = False,
    ) -> SummaryOut:
        period = service.check_range(start, end, service.today())
        return await service.summary(actor, period, filters, live=live)

    @get("/timeseries", summary="Figures by month or quarter (suppressed)")
    async def timeseries(
        self,
        actor: Actor,
        filters: Filters,
        start: From = None,
        end: To = None,
        granularity: FromQuery[Granularity] = Granularity.MONTH,
        live: Live = False,
    ) -> TimeseriesOut:
        period = service.check_range(start, end, service.today())
        return await service.timeseries(actor, period, granularity.value, filters, live=live)

    @get(
        "/network",
        summary="Cohesion network metrics per period, with the trend",
        dependencies={"filters": Provide(provide_network_filters, sync_to_thread=False)},
    )
    async def network(
        self,
        actor: Actor,
        filters: Filters,
        start: From = None,
        end: To = None,
        granularity: FromQuery[NetworkGranularity] = NetworkGranularity.QUARTER,
        live: Live = False,
    ) -> NetworkOut:
        period = service.check_range(start, end, service.today())
        return await service.cohesion(actor, period, granularity.value, filters, live=live)

    @get("/coverage", summary="Need coverage, use not consumption, time to match")
    async def coverage(
        self,
        actor: Actor,
        filters: Filters,
        start: From = None,
        end: To = None,
        live: Live = False,
    ) -> CoverageOut:
        period = service.check_range(start, end, service.today())
        return await service.coverage(actor, period, filters, live=live)

    @get(
        "/outcomes",
        summary="Outcome indicators of the plans: reviews on time, goals attained, GAS T "
        "change, closures, activation, sources of support (suppressed)",
        dependencies={"filters": Provide(provide_outcome_filters, sync_to_thread=False)},
    )
    async def outcome_figures(
        self,
        actor: Actor,
        filters: Filters,
        start: From = None,
        end: To = None,
    ) -> outcomes.OutcomesOut:
        period = service.check_range(start, end, service.today())
        return await outcomes.outcomes(actor, period, filters)

    async def _bundle(self, actor: Actor, asked: ExportQuery) -> exports.Bundle:
        period = service.check_range(asked.start, asked.end, service.today())
        return await exports.bundle(
            actor, period, asked.granularity.value, asked.scope, live=asked.live
        )

    @get(
        "/export.xlsx",
        summary="Every table of the period as one XLSX workbook",
        operation_class=answers(XLSX_MEDIA_TYPE),
    )
    async def export_xlsx(
        self,
        actor: Actor,
        asked: Asked,
        dialect: Dialect = exports.Dialect.ITALIAN,
    ) -> Response[bytes]:
        b = await self._bundle(actor, asked)
        return Response(
            await in_worker_process(exports.xlsx_of, b, dialect),
            media_type=XLSX_MEDIA_TYPE,
            headers=_attachment(exports.xlsx_filename(b, dialect)),
        )

    @get(
        "/export/{filename:str}",
        summary="One table of the period as CSV: /export/NAME.csv",
        operation_class=answers("text/csv"),
    )
    async def export_csv(
        self,
        actor: Actor,
        filename: PathText,
        asked: Asked,
        dialect: Dialect = exports.Dialect.ITALIAN,
    ) -> Response[bytes]:
        table = filename.removesuffix(".csv")
        if not filename.endswith(".csv") or not re.fullmatch(r"[a-z_-]{1,40}", table):
            raise InvalidInput(
                "ask for NAME.csv, NAME in lower-case letters, - and _", field="table"
            )
        b = await self._bundle(actor, asked)
        return Response(
            await in_worker_process(exports.csv_of, b, table, dialect),
            media_type="text/csv",  # Litestar adds the charset to text/* types
            headers=_attachment(exports.csv_filename(b, table, dialect)),
        )

    @get(
        "/report.html",
        summary="The one-file report for the Piano di Zona (HTML, SVG charts)",
        operation_class=answers("text/html"),
    )
    async def report_html(
        self,
        actor: Actor,
        asked: Asked,
        download: FromQuery[bool] = False,
    ) -> Response[str]:
        b = await self._bundle(actor, asked)
        headers = {"Cache-Control": "no-store"}
        if download:
            headers = _attachment(exports.report_filename(b, "html"))
        # Workbook, CSV and report are pure Python over the bundle: rendered in a worker
        # process, never on the event loop (registry/offload.py).
        page = await in_worker_process(report.render, b)
        return Response(page, media_type="text/html", headers=headers)  # charset: Litestar

    @get(
        "/report.pdf",
        summary="The report for the Piano di Zona as an A4 PDF",
        operation_class=answers("application/pdf"),
    )
    async def report_pdf(
        self,
        actor: Actor,
        asked: Asked,
    ) -> Response[bytes]:
        b = await self._bundle(actor, asked)
        return Response(
            await in_worker_process(report.pdf, b),
            media_type="application/pdf",
            headers=_attachment(exports.report_filename(b, "pdf")),
        )

    @get("/labels", summary="Italian names of tables and columns, how each indicator is read")
    async def metric_labels(self, actor: Actor) -> labels.LabelsOut:
        return labels.labels_out(service.min_count())

    @get("/rates", summary="Hourly rates per task level and year (defaults marked)")
    async def rates(self, actor: Actor) -> RateTableOut:
        return await service.rate_table(actor)

    @put("/rates/{task_level:str}/{year:int}", summary="Set the UdP's rate for a level and year")
    async def set_rate(
        self,
        actor: Actor,
        task_level: PathText,
        year: RateYear,
        data: JSONBody[RateIn],
    ) -> RateTableOut:
        return await service.set_rate(actor, task_level, year, data)

    @delete("/rates/{task_level:str}/{year:int}", summary="Drop the UdP's rate (back to default)")
    async def delete_rate(self, actor: Actor, task_level: PathText, year: RateYear) -> None:
        await service.delete_rate(actor, task_level, year)

    @put("/task-levels/{category:str}", summary="Set the task level of a resource category")
    async def set_task_level(
        self, actor: Actor, category: PathText, data: JSONBody[TaskLevelIn]
    ) -> RateTableOut:
        return await service.set_category_level(actor, category, data.task_level)

    @post("/snapshots", status_code=200, summary="Write the period snapshots now (UdP)")
    async def run_snapshots(self, actor: Actor) -> SnapshotRunOut:
        actor.require(Role.UDP_ADMIN)
        result = await service.take_snapshot(now(), [actor.ambito_id])
        return SnapshotRunOut(**result)
