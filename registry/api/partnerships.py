"""Co-design projects, patti di collaborazione and their commitments (issue 16)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from registry.api.contributions import IdempotencyKey
from registry.api.params import Actor
from registry.contributions.schemas import ContributionOut
from registry.partnerships import commitments, patti, patto_reports, projects
from registry.partnerships.schemas import (
    CommitmentContribution,
    CommitmentCreate,
    CommitmentOut,
    MilestoneCreate,
    MilestoneOut,
    MilestonePatch,
    MonitoringOut,
    PartnerIn,
    PartyIn,
    PattoCreate,
    PattoOut,
    PattoPatch,
    PattoRenewal,
    PattoReportCreate,
    PattoReportOut,
    PattoStatus,
    ProjectCreate,
    ProjectOut,
    ProjectPatch,
)


class CodesignController(Controller):
    path = "/api/codesigns"
    tags = ["partnerships"]

    @get("/", summary="Co-design projects (a holder manager: those its holder is partner of)")
    async def list_projects(
        self, actor: Actor, procedure_id: FromQuery[uuid.UUID | None] = None
    ) -> list[ProjectOut]:
        return await projects.list_projects(actor, procedure_id=procedure_id)

    @post("/", summary="Start a co-design project, usually from a co-programming proposal")
    async def create_project(self, actor: Actor, data: JSONBody[ProjectCreate]) -> ProjectOut:
        return await projects.create_project(actor, data)

    @get("/{project_id:uuid}")
    async def get_project(self, actor: Actor, project_id: FromPath[uuid.UUID]) -> ProjectOut:
        return await projects.get_project(actor, project_id)

    @patch("/{project_id:uuid}")
    async def update_project(
        self, actor: Actor, project_id: FromPath[uuid.UUID], data: JSONBody[ProjectPatch]
    ) -> ProjectOut:
        return await projects.update_project(actor, project_id, data)

    @post("/{project_id:uuid}/partners", summary="Add a partner")
    async def add_partner(
        self, actor: Actor, project_id: FromPath[uuid.UUID], data: JSONBody[PartnerIn]
    ) -> ProjectOut:
        return await projects.add_partner(actor, project_id, data)

    @post("/{project_id:uuid}/commitments", summary="What a partner commits")
    async def add_commitment(
        self, actor: Actor, project_id: FromPath[uuid.UUID], data: JSONBody[CommitmentCreate]
    ) -> CommitmentOut:
        return await projects.add_project_commitment(actor, project_id, data)

    @post("/{project_id:uuid}/milestones", summary="A step of the timeline")
    async def add_milestone(
        self, actor: Actor, project_id: FromPath[uuid.UUID], data: JSONBody[MilestoneCreate]
    ) -> MilestoneOut:
        return await projects.add_milestone(actor, project_id, data)

    @patch("/{project_id:uuid}/milestones/{milestone_id:uuid}")
    async def update_milestone(
        self,
        actor: Actor,
        project_id: FromPath[uuid.UUID],
        milestone_id: FromPath[uuid.UUID],
        data: JSONBody[MilestonePatch],
    ) -> MilestoneOut:
        return await projects.update_milestone(actor, project_id, milestone_id, data)

    @get(
        "/{project_id:uuid}/monitoring",
        summary="Committed against given (from the ledger), per commitment and per partner",
    )
    async def monitoring(self, actor: Actor, project_id: FromPath[uuid.UUID]) -> MonitoringOut:
        return await projects.project_monitoring(actor, project_id)


class PattoController(Controller):
    path = "/api/patti"
    tags = ["partnerships"]

    @get("/", summary="Patti di collaborazione (a holder manager: those its holder is party to)")
    async def list_patti(
        self, actor: Actor, status: FromQuery[PattoStatus | None] = None
    ) -> list[PattoOut]:
        return await patti.list_patti(actor, status=status)

    @post("/", summary="Sign a patto di collaborazione")
    async def create_patto(self, actor: Actor, data: JSONBody[PattoCreate]) -> PattoOut:
        return await patti.create_patto(actor, data)

    @get("/{patto_id:uuid}")
    async def get_patto(self, actor: Actor, patto_id: FromPath[uuid.UUID]) -> PattoOut:
        return await patti.get_patto(actor, patto_id)

    @patch("/{patto_id:uuid}")
    async def update_patto(
        self, actor: Actor, patto_id: FromPath[uuid.UUID], data: JSONBody[PattoPatch]
    ) -> PattoOut:
        return await patti.update_patto(actor, patto_id, data)

    @post("/{patto_id:uuid}/parties", summary="A holder joins the patto (adesione)")
    async def add_party(
        self, actor: Actor, patto_id: FromPath[uuid.UUID], data: JSONBody[PartyIn]
    ) -> PattoOut:
        return await patti.add_party(actor, patto_id, data)

    @post("/{patto_id:uuid}/commitments", summary="What one side commits")
    async def add_commitment(
        self, actor: Actor, patto_id: FromPath[uuid.UUID], data: JSONBody[CommitmentCreate]
    ) -> CommitmentOut:
        return await patti.add_patto_commitment(actor, patto_id, data)

    @post(
        "/{patto_id:uuid}/renewal",
        summary="Renew: a new period linked to this one (commitments copied by default)",
    )
    async def renew(
        self, actor: Actor, patto_id: FromPath[uuid.UUID], data: JSONBody[PattoRenewal]
    ) -> PattoOut:
        return await patti.renew_patto(actor, patto_id, data)

    @get("/{patto_id:uuid}/monitoring", summary="Committed against given, from the ledger")
    async def monitoring(self, actor: Actor, patto_id: FromPath[uuid.UUID]) -> MonitoringOut:
        return await patti.patto_monitoring(actor, patto_id)

    @get("/{patto_id:uuid}/reports", summary="The periodic reports")
    async def list_reports(
        self, actor: Actor, patto_id: FromPath[uuid.UUID]
    ) -> list[PattoReportOut]:
        return await patto_reports.list_reports(actor, patto_id)

    @post(
        "/{patto_id:uuid}/reports",
        summary="A periodic report: its text and the ledger's figures for the period",
    )
    async def add_report(
        self, actor: Actor, patto_id: FromPath[uuid.UUID], data: JSONBody[PattoReportCreate]
    ) -> PattoReportOut:
        return await patto_reports.add_report(actor, patto_id, data)


class CommitmentController(Controller):
    path = "/api/commitments"
    tags = ["partnerships"]

    @get(
        "/",
        summary="Commitments of projects and patti with what was given (a holder manager: "
        "its own holder's)",
    )
    async def list_commitments(
        self, actor: Actor, holder_id: FromQuery[uuid.UUID | None] = None
    ) -> list[CommitmentOut]:
        return await commitments.list_commitments(actor, holder_id=holder_id)

    @post(
        "/{commitment_id:uuid}/contributions",
        summary="Record a ledger entry given under a commitment (Idempotency-Key required)",
        description="201 when recorded, 200 for a replay of the same request with the same "
        "Idempotency-Key. The entry is an ordinary ledger entry (confirm, correct or cancel "
        "it under /api/contributions).",
    )
    async def record(
        self,
        actor: Actor,
        commitment_id: FromPath[uuid.UUID],
        data: JSONBody[CommitmentContribution],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ContributionOut]:
        entry, created = await commitments.record_contribution(
            actor, commitment_id, data, idempotency_key
        )
        return Response(entry, status_code=201 if created else 200)
