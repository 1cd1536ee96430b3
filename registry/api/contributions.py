from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from registry.api.params import Actor, IstatQuery, Limit, Offset
from registry.common import Page
from registry.contributions import activities, confirmations, corrections, reading, recording
from registry.contributions.schemas import (
    ActivityCreate,
    ActivityOut,
    ActivityPatch,
    Cancellation,
    ConfirmationIn,
    ContributionCorrection,
    ContributionCreate,
    ContributionOut,
    LedgerFilter,
    SummaryOut,
)
from registry.text import ONE_LINE_PATTERN
from registry.vocabularies import ContributionUnit, Verification

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=128,
        pattern=ONE_LINE_PATTERN,
        description="a unique value per entry (e.g. a UUID); resend the same value to retry",
    ),
]
FromDate = Annotated[date | None, QueryParameter(name="from")]
ToDate = Annotated[date | None, QueryParameter(name="to")]


def provide_filters(
    holder_id: FromQuery[uuid.UUID | None] = None,
    volunteer_id: FromQuery[uuid.UUID | None] = None,
    activity_id: FromQuery[uuid.UUID | None] = None,
    match_id: FromQuery[uuid.UUID | None] = None,
    plan_id: FromQuery[uuid.UUID | None] = None,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> LedgerFilter:
    """The filters the ledger's list and summary share, read from the query once."""
    return LedgerFilter(
        holder_id=holder_id,
        volunteer_id=volunteer_id,
        activity_id=activity_id,
        match_id=match_id,
        plan_id=plan_id,
        from_date=from_date,
        to_date=to_date,
    )


Filters = NamedDependency[LedgerFilter]
# On the two handlers that read them, not the controller: the other routes resolve nothing more.
_FILTERS = {"filters": Provide(provide_filters, sync_to_thread=False)}


def _answer(entry: ContributionOut, created: bool) -> Response[ContributionOut]:
    # 201 for the request that recorded the entry, 200 for a replay of it.
    return Response(entry, status_code=201 if created else 200)


class ContributionController(Controller):
    path = "/api/contributions"
    tags = ["contributions"]

    @get(
        "/",
        summary="The ledger entries the caller may see (latest versions by default)",
        dependencies=_FILTERS,
    )
    async def list_contributions(
        self,
        actor: Actor,
        filters: Filters,
        unit: FromQuery[ContributionUnit | None] = None,
        verification: FromQuery[Verification | None] = None,
        include_superseded: FromQuery[bool] = False,
        awaiting_confirmation: Annotated[
            bool,
            QueryParameter(
                description="only the self-reported entries waiting for the caller's "
                "confirmation (a social worker: those of its plans)"
            ),
        ] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ContributionOut]:
        return await reading.list_contributions(
            actor,
            filters,
            unit=unit,
            verification=verification,
            include_superseded=include_superseded,
            awaiting_confirmation=awaiting_confirmation,
            limit=limit,
            offset=offset,
        )

    @post(
        "/",
        summary="Record a contribution (Idempotency-Key header required)",
        description="201 when recorded, 200 when the same request was already recorded "
        "with this Idempotency-Key (the same entry is returned), 409 when the key was used "
        "for a different request.",
    )
    async def record(
        self,
        actor: Actor,
        data: JSONBody[ContributionCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ContributionOut]:
        return _answer(*await recording.record(actor, data, idempotency_key))

    @get(
        "/summary",
        summary="Totals per unit of the effective entries, verified apart",
        dependencies=_FILTERS,
    )
    async def summary(self, actor: Actor, filters: Filters) -> SummaryOut:
        return await reading.summary(actor, filters)

    @get("/{contribution_id:uuid}")
    async def get_contribution(
        self, actor: Actor, contribution_id: FromPath[uuid.UUID]
    ) -> ContributionOut:
        return await reading.get_contribution(actor, contribution_id)

    @get("/{contribution_id:uuid}/history", summary="Every version of the entry, oldest first")
    async def history(
        self, actor: Actor, contribution_id: FromPath[uuid.UUID]
    ) -> list[ContributionOut]:
        return await reading.history(actor, contribution_id)

    @post(
        "/{contribution_id:uuid}/corrections",
        summary="Correct an entry: a new entry replaces it (fields left out are copied)",
    )
    async def correct(
        self,
        actor: Actor,
        contribution_id: FromPath[uuid.UUID],
        data: JSONBody[ContributionCorrection],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ContributionOut]:
        return _answer(*await corrections.correct(actor, contribution_id, data, idempotency_key))

    @post(
        "/{contribution_id:uuid}/cancellation",
        summary="Cancel an entry: a cancellation entry withdraws it from the totals",
    )
    async def cancel(
        self,
        actor: Actor,
        contribution_id: FromPath[uuid.UUID],
        data: JSONBody[Cancellation],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ContributionOut]:
        return _answer(*await corrections.cancel(actor, contribution_id, data, idempotency_key))

    @post(
        "/{contribution_id:uuid}/confirm",
        status_code=200,
        summary="Confirm an entry (social worker of its plan, holder manager, or UdP)",
    )
    async def confirm(
        self,
        actor: Actor,
        contribution_id: FromPath[uuid.UUID],
        data: JSONBody[ConfirmationIn | None] = None,
    ) -> ContributionOut:
        return await confirmations.confirm(actor, contribution_id, data or ConfirmationIn())


class ActivityController(Controller):
    path = "/api/activities"
    tags = ["contributions"]

    @get("/", summary="Community activities (events, shared initiatives)")
    async def list_activities(
        self,
        actor: Actor,
        holder_id: FromQuery[uuid.UUID | None] = None,
        comune: IstatQuery = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ActivityOut]:
        return await activities.list_activities(
            actor,
            holder_id=holder_id,
            comune=comune,
            from_date=from_date,
            to_date=to_date,
            limit=limit,
            offset=offset,
        )

    @post("/")
    async def create_activity(self, actor: Actor, data: JSONBody[ActivityCreate]) -> ActivityOut:
        return await activities.create_activity(actor, data)

    @get("/{activity_id:uuid}")
    async def get_activity(self, actor: Actor, activity_id: FromPath[uuid.UUID]) -> ActivityOut:
        return await activities.get_activity(actor, activity_id)

    @patch("/{activity_id:uuid}")
    async def update_activity(
        self, actor: Actor, activity_id: FromPath[uuid.UUID], data: JSONBody[ActivityPatch]
    ) -> ActivityOut:
        return await activities.update_activity(actor, activity_id, data)
