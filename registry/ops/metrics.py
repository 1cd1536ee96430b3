"""GET /metrics in the Prometheus text format, behind a bearer token (REGISTRY_METRICS_TOKEN).

Requests and their latency come from Litestar's Prometheus middleware, labelled by the route
template (`/api/holders/{holder_id:uuid}`), never by the raw path, which can carry tokens
(`/reconfirm/{token}`). With several workers (`registry serve --workers N`) each worker
writes its counts to PROMETHEUS_MULTIPROC_DIR and any worker answers with the sum.

Job runs and the outbox are read from the database at each scrape: they are the same for
every process and host, whichever one answers.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from litestar import Request, get
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.response import Response
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.query.functions.aggregate import Count, Max, Min
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from registry.common import now as utcnow
from registry.config import Settings

# The outbox states an operator alerts on are always present, even at zero.
OUTBOX_STATES = ("pending", "delivered", "dead")


class RouteMetricsMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware, seeing the status of refused requests too.

    A request refused by a later middleware (the JWT check: 401) raises past this one, and
    Litestar turns the exception into a response further out: the stock middleware would
    count it as a 200. Turning exceptions into responses inside it (as Litestar itself does
    around each handler) counts them with their real status.
    """

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app=wrap_in_exception_handler(app), config=config)
        # The children of each route's labels, and of each (route, status): prometheus_client
        # finds a child under a lock at every look-up, four a request (issue 18).
        self._in_progress: dict[tuple[str, str], Any] = {}
        self._done: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The stock middleware's counts (in progress, total, errors, duration) by method,
        route template and status, without its per-request Request, URL (parsed for a path
        the template replaces) and label look-ups: a tenth of reading a resource by id."""
        config = self._config
        if (
            scope["type"] != ScopeType.HTTP
            or not config.group_path
            or config.labels
            or config.exemplars
            or config.excluded_http_methods
        ):
            await super().__call__(scope, receive, send)
            return
        route = (scope["method"], scope["path_template"])
        in_progress = self._in_progress.get(route)
        if in_progress is None:
            labels = {"method": route[0], "path": route[1], "status_code": 200}
            labels["app_name"] = config.app_name
            gauge = self.requests_in_progress(labels)  # type: ignore[arg-type]
            in_progress = self._in_progress[route] = gauge.labels(*labels.values())
        span = {"status": 200, "start": time.perf_counter(), "duration": 0.0}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                span["status"] = message["status"]
            elif message["type"] == "http.response.body":
                span["duration"] = time.perf_counter() - span["start"]
            await send(message)

        in_progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            in_progress.dec()
            status = int(span["status"])
            done = self._done.get((*route, status))
            if done is None:
                labels = {"method": route[0], "path": route[1], "status_code": status}
                labels["app_name"] = config.app_name
                values = labels.values()
                done = self._done[(*route, status)] = (
                    self.request_count(labels).labels(*values),  # type: ignore[arg-type]
                    self.request_time(labels).labels(*values),  # type: ignore[arg-type]
                    self.requests_error_count(labels).labels(*values)  # type: ignore[arg-type]
                    if status >= HTTP_500_INTERNAL_SERVER_ERROR
                    else None,
                )
            count, duration, errors = done
            if errors is not None:
                errors.inc()
            count.inc()
            duration.observe(span["duration"])


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="registry",
        prefix="registry_http",
        group_path=True,  # the route template, not the path
        exclude=[r"^/metrics$"],
        middleware_class=RouteMetricsMiddleware,
    )


class _Families:
    """A collector that hands over families already read (collectors are synchronous, the
    database is not)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def database_families() -> list[Metric]:
    from registry.notifications.tables import OutboxMessage
    from registry.scheduled_jobs import JobRun

    runs = CounterMetricFamily(
        "registry_job_runs",
        "Recorded runs of the scheduled jobs (idle dispatcher runs are not recorded)",
        labels=["job", "status"],
    )
    for row in await JobRun.select(JobRun.job, JobRun.status, Count(alias="runs")).group_by(
        JobRun.job, JobRun.status
    ):
        runs.add_metric([row["job"], row["status"]], row["runs"])
    last_ok = GaugeMetricFamily(
        "registry_job_last_success_timestamp_seconds",
        "Start of the job's latest successful run (Unix time)",
        labels=["job"],
    )
    for row in (
        await JobRun.select(JobRun.job, Max(JobRun.started_at, alias="last"))
        .where(JobRun.status == "ok")
        .group_by(JobRun.job)
    ):
        last_ok.add_metric([row["job"]], _timestamp(row["last"]))

    counts = dict.fromkeys(OUTBOX_STATES, 0)
    for row in await OutboxMessage.select(OutboxMessage.status, Count(alias="messages")).group_by(
        OutboxMessage.status
    ):
        counts[row["status"]] = row["messages"]
    outbox = GaugeMetricFamily(
        "registry_outbox_messages",
        "Outbox messages by state: pending is the backlog, dead gave up after all attempts",
        labels=["status"],
    )
    for status, count in sorted(counts.items()):
        outbox.add_metric([status], count)
    oldest = (
        await OutboxMessage.select(Min(OutboxMessage.created_at, alias="oldest"))
        .where(OutboxMessage.status == "pending")
        .first()
    )
    age = GaugeMetricFamily(
        "registry_outbox_oldest_pending_seconds",
        "Age of the oldest message still waiting for delivery (0 when none waits)",
    )
    moment = oldest["oldest"] if oldest else None
    age.add_metric([], max(0.0, (utcnow() - _datetime(moment)).total_seconds()) if moment else 0)
    return [runs, last_ok, outbox, age]


def _datetime(value: Any) -> Any:
    """Aggregates come back as text on SQLite."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _timestamp(value: Any) -> float:
    return _datetime(value).timestamp()


def _http_registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def metrics_handler(settings: Settings) -> HTTPRouteHandler:
    expected = f"Bearer {settings.metrics_token}".encode() if settings.metrics_token else None

    @get(
        "/metrics",
        opt={"public": True},  # not a user's JWT: its own token, checked here
        include_in_schema=False,
        name="metrics",
    )
    async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        if expected is None:
            raise NotFoundException("metrics are off: set REGISTRY_METRICS_TOKEN")
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise NotAuthorizedException(
                "GET /metrics needs Authorization: Bearer <REGISTRY_METRICS_TOKEN>",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        from_database = CollectorRegistry(auto_describe=False)
        from_database.register(_Families(await database_families()))  # type: ignore[arg-type]
        body = generate_latest(_http_registry()) + generate_latest(from_database)
        return Response(body, media_type=CONTENT_TYPE_LATEST)  # no-store: the app's rule

    return metrics
