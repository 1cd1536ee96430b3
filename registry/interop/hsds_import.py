"""Import of HSDS 3.1 data (JSON in any of its shapes, or a CSV data package) into an ambito.

Three steps. *Read*: the input becomes rows per entity (package.py) and every row of the
tables we map is checked against its HSDS schema. *Plan*: each organization becomes a
holder, each service a resource, each schedule an availability window; the plan is
validated with the same rules as the API (msgspec structs, holders' and resources' own
checks) and matched against what the ambito already has, so the report says exactly what
would be created, updated, left unchanged or rejected, and why. *Apply* (not in a dry
run): one transaction writes the plan.

Matching, so that a re-import creates no duplicates: an organization is found by the
identifier a previous import recorded (ExternalLink), else by its id when it is one of our
own ids (our export), else by codice fiscale / partita IVA, else by name and address; a
service by recorded identifier, own id, else by name within the same holder; a schedule
by recorded identifier, own id, else by an identical rule.

Records from other systems lack what the registry needs (holder kind, category, unit):
defaults are applied on creation only, each one reported as a warning; an update only
touches what the data actually says. What HSDS has and the registry does not map is
counted under `not_mapped`, with the reason.
"""

from __future__ import annotations

import anyio.to_thread

from registry.access import Principal, Role
from registry.db import unit_of_work
from registry.interop.hsds_organizations import _Organizations
from registry.interop.hsds_plan import Existing, Progress
from registry.interop.hsds_read import read_input, require_hsds
from registry.interop.hsds_schema import Schemas, packaged
from registry.interop.hsds_services import _Services
from registry.interop.hsds_write import _Writing
from registry.interop.package import Tables
from registry.interop.schemas import HsdsImportReport

# --- the import ---------------------------------------------------------------------------


class Importer(_Organizations, _Services, _Writing):
    """One import: the plan of the organizations (hsds_organizations.py), of the services
    and their schedules (hsds_services.py), and its writing (hsds_write.py)."""


# --- entry points -------------------------------------------------------------------------


async def import_tables(
    actor: Principal,
    tables: Tables,
    *,
    source: str,
    dry_run: bool = False,
    strict: bool = False,
    schemas: Schemas | None = None,
    progress: Progress | None = None,
) -> HsdsImportReport:
    actor.require(Role.UDP_ADMIN)
    require_hsds(tables)
    schemas = schemas or packaged()

    def plan_in_memory(importer: Importer) -> Importer:
        importer.check_schemas()
        importer.plan_organizations()
        importer.plan_services()
        importer.count_windows()
        return importer

    async def plan() -> Importer:
        existing = await Existing.load(actor.ambito_id)
        importer = Importer(existing, tables, schemas, source, progress)
        # Planning is pure Python over what was loaded: a worker thread, not the event loop.
        return await anyio.to_thread.run_sync(plan_in_memory, importer)

    def rejected(importer: Importer) -> bool:
        items = [p.item for p in importer.orgs.values()] + [p.item for p in importer.services]
        return any(i.action == "reject" for i in items)

    applied = blocked = False
    if dry_run:
        importer = await plan()
    else:
        # Planned and written in one transaction: what is written is exactly what was
        # planned on the data as it was (no concurrent change slips in between).
        async with unit_of_work():
            importer = await plan()
            blocked = strict and rejected(importer)
            if not blocked:
                await importer.apply()
                applied = True
    report = importer.report(dry_run=dry_run, applied=applied)
    if blocked and not dry_run:
        report.warnings.insert(
            0, "strict import: nothing was written, since some records were rejected"
        )
    return report


async def import_hsds(
    actor: Principal,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
) -> HsdsImportReport:
    actor.require(Role.UDP_ADMIN)
    schemas = packaged()
    # Parsing and checking the upload is pure Python: in a worker thread, not on the loop.
    tables = await anyio.to_thread.run_sync(read_input, data, filename, schemas, progress)
    return await import_tables(
        actor,
        tables,
        source=filename,
        dry_run=dry_run,
        strict=strict,
        schemas=schemas,
        progress=progress,
    )
