"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from litestar import Litestar, Response, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from registry import __version__, db, offload
from registry.api.auth import AuthController, auth_middleware, provide_actor
from registry.api.body import StrictJSONRequest
from registry.api.checkin import CheckInController
from registry.api.contributions import ActivityController, ContributionController
from registry.api.coprogramming import CoprogrammingController, PublicCoprogrammingController
from registry.api.errors import handlers
from registry.api.headers import security_headers
from registry.api.holders import HolderController
from registry.api.interactions import InteractionController
from registry.api.interop import (
    InteropController,
    PublicDirectoryController,
    PublicFeedsController,
)
from registry.api.interventions import InterventionController
from registry.api.matches import MatchController, MatchingRunController
from registry.api.metrics import MetricsController
from registry.api.notifications import NotificationController
from registry.api.openapi import DocumentedErrors
from registry.api.outcomes import OutcomesController
from registry.api.partnerships import CodesignController, CommitmentController, PattoController
from registry.api.plans import AuditController, PlanController
from registry.api.platform import PlatformController
from registry.api.privacy import PrivacyController
from registry.api.reconfirm import ReconfirmController, ReconfirmPage
from registry.api.reference import AmbitoController, TaxonomyController, UserController
from registry.api.region import REGION_CONTROLLERS
from registry.api.resources import ResourceController
from registry.config import Settings, load_settings
from registry.logs import install_redaction
from registry.ops.http import (
    STATIC_CACHE_CONTROL,
    ConditionalGetMiddleware,
    compression_config,
    default_cache_control,
)
from registry.ops.metrics import metrics_handler, prometheus_config
from registry.taxonomy.service import ensure_seeded

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class Health(msgspec.Struct):
    status: str
    database: str
    version: str


log = logging.getLogger("registry.app")


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("the worker processes did not start: %r", task.exception())


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> Litestar:
    settings = settings or load_settings()
    settings.check()
    install_redaction()  # before anything logs a URL (registry/logs.py)
    engine = db.make_engine(settings)
    db.bind(engine)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start(engine)
        if migrate_on_start:
            await db.migrate(then=ensure_seeded)  # once, under a lock, among all workers
        leader = None
        if settings.scheduler_enabled:
            # Inside the lifespan, so it runs on the server's own event loop (DESIGN.md);
            # the scheduler runs only while this process holds the lease (registry/jobs.py).
            from registry import jobs

            leader = jobs.SchedulerLeader(settings)
            await leader.start()
            app.state.scheduler_leader = leader
            app.state.scheduler = leader.scheduler
        # The worker processes, started while nothing waits for them (registry/offload.py).
        starting = asyncio.get_running_loop().create_task(offload.start_workers())
        starting.add_done_callback(_log_failure)
        # What is alive now (modules, routes, caches) lives as long as the process: out of the
        # collector's reach, or every full collection walks it while the event loop waits
        # (bench/event_loop.py measured 120-180 ms pauses of /health).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            starting.cancel()
            gc.unfreeze()  # collectable again (a test process starts many apps in turn)
            if leader is not None:
                await leader.stop()
            await db.stop(engine)

    @get(
        "/health",
        opt={"public": True},
        tags=["health"],
        responses={503: ResponseSpec(Health, description="the database does not answer")},
    )
    async def health() -> Response[Health]:
        """200 when the database answers, 503 when it does not (for load balancers)."""
        answers = await db.ping()
        return Response(
            Health(
                status="ok" if answers else "unavailable",
                database=settings.backend if answers else f"{settings.backend}: no answer",
                version=__version__,
            ),
            status_code=200 if answers else 503,
        )

    route_handlers: list = [
        health,
        metrics_handler(settings),  # Prometheus, behind REGISTRY_METRICS_TOKEN (registry/ops/)
        AuthController,
        UserController,
        AmbitoController,
        PlatformController,  # issue 14: ambiti and their first UdP, for platform admins
        *REGION_CONTROLLERS,  # issue 13: regional observers, their accounts, the gap map
        TaxonomyController,
        HolderController,
        ResourceController,
        ContributionController,
        ActivityController,
        CheckInController,
        InterventionController,
        NotificationController,
        ReconfirmController,
        ReconfirmPage,
        PlanController,
        OutcomesController,  # issue 15: goals (GAS), reviews, closure, own resources
        MatchController,
        MatchingRunController,
        AuditController,
        MetricsController,
        InteractionController,
        CoprogrammingController,  # issue 16: co-programming procedures (art. 55 CTS)
        PublicCoprogrammingController,
        PrivacyController,  # issue 19: data subjects' requests, retention, DPO records
        CodesignController,  # issue 16: co-design, patti di collaborazione, commitments
        PattoController,
        CommitmentController,
        InteropController,
        PublicDirectoryController,
        PublicFeedsController,
    ]
    if WEB_DIR.is_dir():
        route_handlers.append(
            create_static_files_router(
                path="/",
                directories=[WEB_DIR],
                html_mode=True,
                opt={"public": True},
                include_in_schema=False,
                name="web",
                # Revalidated at each use: a 304 while unchanged, a deploy seen at once.
                cache_control=STATIC_CACHE_CONTROL,
                middleware=[ConditionalGetMiddleware()],
            )
        )

    return Litestar(
        route_handlers=route_handlers,
        dependencies={
            "actor": Provide(provide_actor, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
        },
        middleware=[
            prometheus_config().middleware,
            auth_middleware(settings),
            db.read_replica_middleware,  # after authentication: read paths may use a replica
        ],
        compression_config=compression_config(),
        exception_handlers=handlers(),
        plugins=[DocumentedErrors()],  # the error answers in the OpenAPI (issue 12)
        before_send=[security_headers(settings), default_cache_control],  # CSP & co.; no-store
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        request_class=StrictJSONRequest,  # JSON bodies decoded strictly: "5" is not 5
        openapi_config=OpenAPIConfig(
            title="Registro delle risorse di comunità",
            version=__version__,
            description="Community resources and contributions of an Ambito Territoriale Sociale.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
        logging_config=None,
    )


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
